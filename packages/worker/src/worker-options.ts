/**
 * Worker options and their resolution against the app's configuration. Each
 * option mirrors a `celery worker` flag or setting (table in the README).
 */
import os from 'node:os';
import { type App, ConfigError, type Logger } from '@taskq/core';

/** Options of a {@link Worker}; every field has a default. */
export interface WorkerOptions {
  /** Queues to consume (`-Q`). Default: `[app.conf.defaultQueue]`. */
  queues?: string[];
  /** Tasks run at once (`-c`, `worker_concurrency`). Default 10 for the async pool. */
  concurrency?: number;
  /**
   * Messages reserved per unit of concurrency (`worker_prefetch_multiplier`).
   * Default `app.conf.prefetchMultiplier` (4). The prefetch is
   * `concurrency × prefetchMultiplier`; 0 means unlimited.
   */
  prefetchMultiplier?: number;
  /**
   * Node name (`-n`). Default `${app.name}@${os.hostname()}`. As in Celery,
   * `%h` expands to the host name, `%n` to its first label and `%d` to its domain.
   */
  hostname?: string;
  /** Worker-wide hard time limit in seconds (`--time-limit`), for tasks that set none. */
  timeLimit?: number;
  /** Worker-wide soft time limit in seconds (`--soft-time-limit`), for tasks that set none. */
  softTimeLimit?: number;
  /** Seconds a warm shutdown waits for running tasks before it turns cold. Default 30. */
  shutdownTimeout?: number;
  /** Logger. Default `app.log.child({ component: 'worker', hostname })`. */
  logger?: Logger;
}

/** {@link WorkerOptions} with defaults applied and values checked. */
export interface ResolvedWorkerOptions {
  queues: string[];
  concurrency: number;
  prefetchMultiplier: number;
  /** `concurrency × prefetchMultiplier`; 0 = unlimited. */
  prefetch: number;
  hostname: string;
  timeLimit: number | undefined;
  softTimeLimit: number | undefined;
  shutdownTimeout: number;
  logger: Logger;
}

/** Concurrency of the async pool when none is given (Celery's default is the CPU count; async tasks are I/O-bound). */
export const DEFAULT_ASYNC_CONCURRENCY = 10;
/** Seconds a warm shutdown waits for running tasks. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 30;

/** Apply defaults and check values; throws ConfigError naming the option to fix. */
export function resolveWorkerOptions(app: App, options: WorkerOptions = {}): ResolvedWorkerOptions {
  const queues = options.queues ?? [app.conf.defaultQueue];
  if (!Array.isArray(queues) || queues.length === 0 || queues.some((q) => typeof q !== 'string' || q.trim() === '')) {
    throw new ConfigError(`worker queues must be a non-empty list of queue names (e.g. ['celery', 'email']), got ${JSON.stringify(queues)}`);
  }
  const concurrency = options.concurrency ?? DEFAULT_ASYNC_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigError(`worker concurrency must be a whole number >= 1, got ${String(concurrency)}`);
  }
  const prefetchMultiplier = options.prefetchMultiplier ?? app.conf.prefetchMultiplier;
  if (!Number.isInteger(prefetchMultiplier) || prefetchMultiplier < 0) {
    throw new ConfigError(`prefetchMultiplier must be a whole number >= 0 (0 = unlimited), got ${String(prefetchMultiplier)}`);
  }
  const timeLimit = checkSeconds(options.timeLimit, 'timeLimit');
  const softTimeLimit = checkSeconds(options.softTimeLimit, 'softTimeLimit');
  const shutdownTimeout = options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT;
  if (!(Number.isFinite(shutdownTimeout) && shutdownTimeout >= 0)) {
    throw new ConfigError(`shutdownTimeout must be a number of seconds >= 0, got ${String(shutdownTimeout)}`);
  }
  const hostname = expandHostname(options.hostname ?? `${app.name}@%h`);
  return {
    queues: [...new Set(queues)],
    concurrency,
    prefetchMultiplier,
    prefetch: concurrency * prefetchMultiplier,
    hostname,
    timeLimit,
    softTimeLimit,
    shutdownTimeout,
    logger: options.logger ?? app.log.child({ component: 'worker', hostname }),
  };
}

function checkSeconds(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    throw new ConfigError(`worker ${name} must be a number of seconds > 0, got ${String(value)}; leave it out for no limit`);
  }
  return value;
}

/** Celery's node-name expansion: `%h` host, `%n` its first label, `%d` its domain, `%%` a percent sign. */
export function expandHostname(template: string, host = os.hostname()): string {
  const dot = host.indexOf('.');
  const name = dot === -1 ? host : host.slice(0, dot);
  const domain = dot === -1 ? '' : host.slice(dot + 1);
  return template.replace(/%[hnd%]/g, (m) => ({ '%h': host, '%n': name, '%d': domain, '%%': '%' })[m]!);
}
