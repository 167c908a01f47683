/**
 * Worker options and their resolution against the app's configuration. Each
 * option mirrors a `celery worker` flag or setting (table in the README).
 */
import os from 'node:os';
import { type App, ConfigError, type Logger } from '@taskq/core';
import type { MonitoringOptions } from './monitoring.js';

/** Options of a {@link Worker}; every field has a default. */
export interface WorkerOptions extends MonitoringOptions {
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
  /**
   * Execution pool (`-P`, `--pool`): `'async'` (default) interleaves tasks in
   * this event loop; `'threads'` (worker_threads) and `'process'` (forked
   * children) run each task in its own thread/child and can kill it at its hard
   * time limit; `'solo'` runs one task at a time here. Celery's names are
   * accepted: `'prefork'` → process, `'eventlet'`/`'gevent'` → async.
   */
  pool?: PoolName | CeleryPoolAlias;
  /**
   * The module that exports the app (absolute path or package specifier). The
   * threads and process pools need it: each thread/child loads it to get its
   * own app. The CLI passes its `--app`.
   */
  appModule?: string;
  /** Replace a thread/child after it ran this many tasks (`--max-tasks-per-child`). */
  maxTasksPerChild?: number;
  /** Replace a thread/child once it uses more than this many KiB after a task (`--max-memory-per-child`; RSS for a child process, V8 heap for a thread). */
  maxMemoryPerChild?: number;
  /** `[max, min]` (`--autoscale max,min`): grow the pool up to max while tasks wait, shrink idle slots back to min. Replaces `concurrency`. */
  autoscale?: [max: number, min: number];
  /**
   * `'fair'` (`-O fair`): reserve no more messages than the pool can start — the
   * prefetch becomes the concurrency (multiplier 1) unless `prefetchMultiplier`
   * is given. Threads and children always get a task only when idle.
   */
  optimization?: 'default' | 'fair';
  /** File that keeps revoked task ids across restarts (`--statedb`), written on shutdown and every minute. */
  statedb?: string;
}

/** The pools taskq has. */
export type PoolName = 'async' | 'threads' | 'process' | 'solo';
/** Celery's pool names, mapped to taskq's. */
export type CeleryPoolAlias = 'prefork' | 'eventlet' | 'gevent';

/** Celery pool name → taskq pool. */
export const POOL_ALIASES: Readonly<Record<CeleryPoolAlias, PoolName>> = { prefork: 'process', eventlet: 'async', gevent: 'async' };

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
  pool: PoolName;
  /** The alias given (e.g. 'prefork'), when one was. */
  poolAlias: CeleryPoolAlias | undefined;
  appModule: string | undefined;
  maxTasksPerChild: number | undefined;
  maxMemoryPerChild: number | undefined;
  autoscale: { max: number; min: number } | undefined;
  optimization: 'default' | 'fair';
  statedb: string | undefined;
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
  const given = options.pool ?? 'async';
  const poolAlias = given in POOL_ALIASES ? (given as CeleryPoolAlias) : undefined;
  const pool = poolAlias ? POOL_ALIASES[poolAlias] : (given as PoolName);
  if (!['async', 'threads', 'process', 'solo'].includes(pool)) {
    throw new ConfigError(`worker pool must be one of async, threads, process, solo (or Celery's prefork, eventlet, gevent), got ${JSON.stringify(given)}`);
  }
  if ((pool === 'threads' || pool === 'process') && !options.appModule) {
    throw new ConfigError(
      `the ${pool} pool loads the app in each ${pool === 'threads' ? 'thread' : 'child process'}, so it needs the app's module: pass appModule (the path of the module that exports the app; \`taskq worker --app\` does this) or use pool 'async'`,
    );
  }
  const autoscale = checkAutoscale(options.autoscale);
  const defaultConcurrency = pool === 'solo' ? 1 : pool === 'async' ? DEFAULT_ASYNC_CONCURRENCY : os.availableParallelism();
  const concurrency = autoscale?.max ?? options.concurrency ?? defaultConcurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigError(`worker concurrency must be a whole number >= 1, got ${String(concurrency)}`);
  }
  if (pool === 'solo' && concurrency !== 1) {
    throw new ConfigError(`the solo pool runs one task at a time; leave concurrency out (or 1), got ${concurrency}`);
  }
  const maxTasksPerChild = checkWhole(options.maxTasksPerChild, 'maxTasksPerChild');
  const maxMemoryPerChild = checkWhole(options.maxMemoryPerChild, 'maxMemoryPerChild');
  const optimization = options.optimization ?? 'default';
  if (optimization !== 'default' && optimization !== 'fair') {
    throw new ConfigError(`worker optimization must be 'default' or 'fair', got ${JSON.stringify(optimization)}`);
  }
  if (options.statedb !== undefined && (typeof options.statedb !== 'string' || options.statedb.trim() === '')) {
    throw new ConfigError('worker statedb must be a file path, e.g. ./worker.state');
  }
  const prefetchMultiplier = options.prefetchMultiplier ?? (optimization === 'fair' ? 1 : app.conf.prefetchMultiplier);
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
    pool,
    poolAlias,
    appModule: options.appModule,
    maxTasksPerChild,
    maxMemoryPerChild,
    autoscale,
    optimization,
    statedb: options.statedb,
  };
}

function checkWhole(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`worker ${name} must be a whole number >= 1, got ${String(value)}; leave it out for no limit`);
  return value;
}

function checkAutoscale(value: [number, number] | undefined): { max: number; min: number } | undefined {
  if (value === undefined) return undefined;
  const [max, min] = Array.isArray(value) ? value : [];
  if (!Number.isInteger(max) || !Number.isInteger(min) || min! < 0 || max! < 1 || min! > max!) {
    throw new ConfigError(`worker autoscale must be [max, min] with whole numbers, max >= 1 and 0 <= min <= max (e.g. [10, 3]), got ${JSON.stringify(value)}`);
  }
  return { max: max!, min: min! };
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
