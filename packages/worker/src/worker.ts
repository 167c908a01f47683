/**
 * The worker: lifecycle and wiring. It connects the app's broker and backend,
 * consumes the queues through a {@link ConsumerLoop} that runs tasks in a
 * {@link Pool}, and shuts down the way `celery worker` does — warm (finish
 * what runs, give back what waits) or cold (abort, give back everything).
 */
import { createRequire } from 'node:module';
import { type App, ConfigError, type Consumer, type Logger, TaskRevokedError } from '@taskq/core';
import { renderBanner } from './banner.js';
import { ConsumerLoop } from './consumer-loop.js';
import { AsyncPool } from './pools/async-pool.js';
import type { Pool } from './pools/pool.js';
import { type ResolvedWorkerOptions, resolveWorkerOptions, type WorkerOptions } from './worker-options.js';

const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** What `stats()` reports (a subset of Celery's `inspect stats`). */
export interface WorkerStats {
  /** Tasks finished since start, by task name (Celery's `total`). */
  processed: Record<string, number>;
  /** Tasks running now. */
  active: number;
  /** Tasks received and due, waiting for a free slot. */
  reserved: number;
  /** Tasks held until their eta. */
  scheduled: number;
  pid: number;
  hostname: string;
  /** Seconds since the worker started consuming (0 before). */
  uptime: number;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * Consumes tasks and runs them. `new Worker(app, options)`, then `start()`;
 * or `runWorker(app, options)`, which also installs the signal handlers.
 */
export class Worker {
  /** The node name (`name@host`), stored with results and shown in logs. */
  readonly hostname: string;
  /** Resolves when the worker has fully stopped (consumer and connections closed). */
  readonly stopped: Promise<void>;
  private readonly options: ResolvedWorkerOptions;
  private readonly log: Logger;
  private readonly pool: Pool;
  private state: State = 'new';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private consumer: Consumer | undefined;
  private loop: ConsumerLoop | undefined;
  private startedAt: number | undefined;
  private resolveStopped!: () => void;
  /** Aborted when a cold stop is asked for during a warm one. */
  private readonly cold = new AbortController();

  constructor(
    private readonly app: App,
    options: WorkerOptions = {},
  ) {
    this.options = resolveWorkerOptions(app, options);
    this.hostname = this.options.hostname;
    this.log = this.options.logger;
    this.pool = new AsyncPool(app, this.options.concurrency);
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
  }

  /** Connect broker and backend, log the banner and start consuming. */
  start(): Promise<void> {
    if (this.state !== 'new') {
      return Promise.reject(new ConfigError(`worker ${this.hostname} was already started; create a new Worker to consume again`));
    }
    this.state = 'starting';
    this.starting = this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const [broker, backend] = await Promise.all([this.app.getBroker(), this.app.getBackend()]);
    const loop = new ConsumerLoop(this.app, this.options, this.pool, backend, this.log);
    this.loop = loop;
    const { broker: brokerUrl, backend: backendUrl } = this.app.describe();
    const info = {
      hostname: this.hostname,
      version: VERSION,
      app: this.app.name,
      transport: broker.transport,
      broker: brokerUrl,
      backend: backendUrl,
      pool: this.pool.kind,
      concurrency: this.pool.size,
      prefetch: this.options.prefetch,
      queues: this.options.queues,
      tasks: this.app.tasks.names(),
      timeLimit: this.options.timeLimit,
      softTimeLimit: this.options.softTimeLimit,
    };
    this.log.info({ banner: info }, renderBanner(info));
    if (this.options.timeLimit !== undefined) {
      this.log.warn(
        { timeLimit: this.options.timeLimit, pool: this.pool.kind },
        'A hard time limit is set, but the async pool cannot kill a task: past the limit the task is marked FAILURE (TimeLimitExceeded) and its slot freed, while its code keeps running until it settles. Make tasks honour their AbortSignal.',
      );
    }
    this.consumer = await broker.consume(this.options.queues, (d) => loop.onDelivery(d), {
      prefetch: this.options.prefetch,
      onInvalid: (invalid) => loop.onInvalid(invalid),
    });
    loop.attach(this.consumer);
    this.startedAt = Date.now();
    if (this.state === 'starting') this.state = 'running';
    this.log.info(`${this.hostname} ready.`);
  }

  /**
   * Stop. Warm (default): stop consuming, give back prefetched and eta tasks,
   * let running tasks finish within `shutdownTimeout`, then close. Cold:
   * abort running tasks' signals, give back every unacknowledged message and
   * close now. A cold stop during a warm one cuts the wait short.
   */
  stop(options: { cold?: boolean } = {}): Promise<void> {
    if (options.cold) this.cold.abort();
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    await this.starting?.catch(() => {});
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    const loop = this.loop;
    const cold = this.cold.signal.aborted;
    this.log.info({ cold }, cold ? 'worker: Cold shutdown' : 'worker: Warm shutdown');
    try {
      await this.consumer?.stop();
      if (loop) {
        const returned = await loop.returnReserved();
        if (returned > 0) this.log.info({ returned }, `Restoring ${returned} unacknowledged message(s)`);
        if (!this.cold.signal.aborted && loop.busy) {
          this.log.info({ timeout: this.options.shutdownTimeout }, `Waiting up to ${this.options.shutdownTimeout}s for running tasks to finish`);
          const idle = await loop.waitIdle(this.options.shutdownTimeout * 1000, this.cold.signal);
          if (!idle) this.log.warn(this.cold.signal.aborted ? 'Cold shutdown requested: aborting running tasks' : `Running tasks did not finish within ${this.options.shutdownTimeout}s: aborting them`);
        }
        if (loop.busy) {
          const requeued = await loop.abortRunning(new TaskRevokedError(`terminated: ${this.hostname} shut down while the task ran`));
          if (requeued > 0) this.log.warn({ requeued }, `Requeued ${requeued} unacknowledged message(s) of aborted tasks`);
        }
      }
      await this.consumer?.close();
      await this.pool.close();
    } finally {
      await this.app.close();
      this.state = 'stopped';
      if (wasRunning || this.startedAt !== undefined) this.log.info(`${this.hostname} stopped.`);
      this.resolveStopped();
    }
  }

  /**
   * SIGTERM or SIGINT → warm stop; a second one → cold stop. Returns a
   * function that removes the handlers (they are also removed once the
   * worker has stopped, so a further signal has its default effect).
   */
  installSignalHandlers(): () => void {
    let received = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      received++;
      if (received === 1) {
        this.log.info({ signal }, `${signal} received: warm shutdown (send it again for a cold shutdown)`);
        this.stop().catch((error: unknown) => this.log.error({ err: error }, 'warm shutdown failed'));
      } else {
        this.log.warn({ signal }, `${signal} received again: cold shutdown`);
        this.stop({ cold: true }).catch((error: unknown) => this.log.error({ err: error }, 'cold shutdown failed'));
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    const uninstall = (): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
    void this.stopped.then(uninstall);
    return uninstall;
  }

  /** Counters for monitoring and tests (Celery's `inspect stats`, abridged). */
  stats(): WorkerStats {
    return {
      processed: { ...(this.loop?.processed ?? {}) },
      active: this.pool.active,
      reserved: this.pool.waiting,
      scheduled: this.loop?.scheduled ?? 0,
      pid: process.pid,
      hostname: this.hostname,
      uptime: this.startedAt === undefined ? 0 : (Date.now() - this.startedAt) / 1000,
    };
  }
}

/** Start a worker and install its SIGTERM/SIGINT handlers (what `taskq worker` does). */
export async function runWorker(app: App, options?: WorkerOptions): Promise<Worker> {
  const worker = new Worker(app, options);
  try {
    await worker.start();
  } catch (error) {
    await worker.stop().catch(() => {});
    throw error;
  }
  worker.installSignalHandlers();
  return worker;
}
