/**
 * The worker: lifecycle and wiring. It connects the app's broker and backend,
 * consumes the queues through a {@link ConsumerLoop} that runs tasks in a
 * {@link Pool}, and shuts down the way `celery worker` does — warm (finish
 * what runs, give back what waits) or cold (abort, give back everything).
 */
import { createRequire } from 'node:module';
import { type App, ConfigError, type Consumer, type Logger, type ResultBackend, TaskRevokedError } from '@taskq/core';
import { Autoscaler } from './autoscaler.js';
import { renderBanner } from './banner.js';
import { ConsumerLoop } from './consumer-loop.js';
import { type Monitoring, type MonitoredWorker, startMonitoring } from './monitoring.js';
import { AsyncPool } from './pools/async-pool.js';
import { ChildPool } from './pools/child-pool.js';
import type { Pool } from './pools/pool.js';
import { RateLimiter } from './rate-limiter.js';
import { ObserverFanout, RequestTracker } from './request-tracker.js';
import { loadStateFile, RevokedSet, type RevokeOptions, registerRevoker, saveStateFile } from './revocation.js';
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
  private pool: Pool;
  /** Revoked task ids (Celery's `revoked`): refused on receipt; persisted with `statedb`. */
  readonly revoked = new RevokedSet();
  private readonly rateLimiter: RateLimiter;
  private autoscaler: Autoscaler | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private stateLoaded = false;
  private unregisterRevoker: (() => void) | undefined;
  private state: State = 'new';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private consumer: Consumer | undefined;
  private loop: ConsumerLoop | undefined;
  private startedAt: number | undefined;
  private resolveStopped!: () => void;
  /** Aborted when a cold stop is asked for during a warm one. */
  private readonly cold = new AbortController();
  /** What the worker holds, for inspect (active/reserved/scheduled) and stats. */
  private readonly requests = new RequestTracker();
  private readonly observers = new ObserverFanout();
  private monitoring: Monitoring | undefined;
  private readonly given: WorkerOptions;

  constructor(
    private readonly app: App,
    options: WorkerOptions = {},
  ) {
    this.options = resolveWorkerOptions(app, options);
    this.given = options;
    this.observers.add(this.requests);
    this.hostname = this.options.hostname;
    this.log = this.options.logger;
    this.rateLimiter = new RateLimiter(app);
    // Thread and process pools are made at start (they need the connected backend); until then an empty async pool answers stats().
    const initial = this.options.autoscale ? this.options.autoscale.min : this.options.concurrency;
    this.pool = new AsyncPool(app, this.options.pool === 'solo' ? 1 : initial, this.options.pool === 'solo' ? 'solo' : 'async');
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
    await this.startPool(backend);
    const loop = new ConsumerLoop(this.app, this.options, this.pool, backend, this.log, { revoked: this.revoked, rateLimiter: this.rateLimiter, observer: this.observers });
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
      taskEvents: this.given.sendTaskEvents ?? this.app.conf.workerSendTaskEvents,
    };
    this.log.info({ banner: info }, renderBanner(info));
    if (this.options.timeLimit !== undefined && (this.pool.kind === 'async' || this.pool.kind === 'solo')) {
      this.log.warn(
        { timeLimit: this.options.timeLimit, pool: this.pool.kind },
        'A hard time limit is set, but the async pool cannot kill a task: past the limit the task is marked FAILURE (TimeLimitExceeded) and its slot freed, while its code keeps running until it settles. Make tasks honour their AbortSignal.',
      );
    }
    await this.app.signals.emitAndWait('workerInit', { hostname: this.hostname, pool: this.pool.kind, concurrency: this.pool.size });
    if (!(this.pool instanceof ChildPool)) {
      // Tasks run in this process: it is the one "process" to initialise.
      await this.app.signals.emitAndWait('workerProcessInit', { hostname: this.hostname, pool: this.pool.kind, pid: process.pid, threadId: 0 });
    }
    this.unregisterRevoker = registerRevoker(this.app, this);
    this.consumer = await broker.consume(this.options.queues, (d) => loop.onDelivery(d), {
      prefetch: this.options.prefetch,
      onInvalid: (invalid) => loop.onInvalid(invalid),
    });
    loop.attach(this.consumer);
    this.autoscaler?.start();
    this.startedAt = Date.now();
    this.monitoring = await startMonitoring(this.monitored(), broker, this.given);
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
      await this.monitoring?.stop();
      this.autoscaler?.stop();
      this.unregisterRevoker?.();
      await this.app.signals.emitAndWait('workerShutdown', { hostname: this.hostname });
      await this.pool.close();
    } finally {
      clearInterval(this.stateTimer);
      await this.saveState();
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

  /**
   * Revoke a task on this worker (Celery's `revoke`): it is refused when it
   * arrives (REVOKED stored, message acked, not run); with `terminate` a
   * running one is stopped — its thread terminated or child killed (threads,
   * process pools), or its AbortSignal aborted (async, solo) — and marked
   * REVOKED ('terminated'). Use `revoke(app, id)` to reach every worker of an
   * app in this process.
   */
  revoke(taskId: string, options: RevokeOptions = {}): void {
    this.revoked.add(taskId);
    this.log.info({ taskId, terminate: options.terminate ?? false }, `Tasks flagged as revoked: ${taskId}`);
    if (options.terminate) this.loop?.terminate(taskId, options);
  }

  /**
   * Change a task's rate limit on this worker at run time (Celery's
   * `rate_limit` control command): `'5/s'`, `'100/m'`, `'1000/h'`, or `null`
   * for none. Throws InvalidTaskOptionsError for a bad rate.
   */
  setRateLimit(taskName: string, rate: string | null): void {
    this.rateLimiter.set(taskName, rate);
    this.log.info({ taskName, rateLimit: rate }, `New rate limit for tasks of type ${taskName}: ${rate ?? 'none'}`);
  }

  /** The pool's threads/children ids (pids or threadIds); empty for the async and solo pools. */
  get poolChildren(): number[] {
    return this.pool instanceof ChildPool ? this.pool.childIds : [];
  }

  /** Make and start the pool the options ask for, the revoked-id state, and the autoscaler. */
  private async startPool(backend: ResultBackend): Promise<void> {
    const o = this.options;
    if (o.poolAlias) this.log.info({ pool: o.pool, alias: o.poolAlias }, `pool ${o.poolAlias} is Celery's name: taskq runs its ${o.pool} pool`);
    if (o.statedb) {
      const loaded = loadStateFile(o.statedb, this.revoked);
      // Only a state file that was read (or absent) is ours to write: never overwrite one we refused.
      this.stateLoaded = true;
      this.log.info({ statedb: o.statedb, revoked: loaded }, `Loaded ${loaded} revoked task id(s) from ${o.statedb}`);
      this.stateTimer = setInterval(() => void this.saveState(), 60_000);
      this.stateTimer.unref();
    }
    if (o.pool === 'threads' || o.pool === 'process') {
      const pool = new ChildPool(this.app, {
        kind: o.pool,
        appModule: o.appModule!,
        size: o.autoscale ? Math.max(1, o.autoscale.min) : o.concurrency,
        hostname: o.hostname,
        maxTasksPerChild: o.maxTasksPerChild,
        maxMemoryPerChild: o.maxMemoryPerChild,
        // An in-process backend (memory://) is not the children's: they store through this process.
        proxyResults: backend.backend === 'memory',
        backend,
        log: this.log,
      });
      this.pool = pool;
      await pool.start();
    } else if (o.maxTasksPerChild !== undefined || o.maxMemoryPerChild !== undefined) {
      this.log.warn({ pool: o.pool }, `maxTasksPerChild / maxMemoryPerChild apply to the threads and process pools only; the ${o.pool} pool ignores them`);
    }
    if (o.autoscale && this.pool.resize) {
      this.autoscaler = new Autoscaler(this.pool as Pool & { resize(n: number): void }, o.autoscale, this.log);
    }
  }

  private async saveState(): Promise<void> {
    if (!this.options.statedb || !this.stateLoaded) return;
    try {
      await saveStateFile(this.options.statedb, this.revoked);
    } catch (error) {
      this.log.error({ err: error, statedb: this.options.statedb }, `could not write the worker state file ${this.options.statedb}`);
    }
  }

  /** The port of the Prometheus endpoint (`metricsPort`), once started. */
  get metricsPort(): number | undefined {
    return this.monitoring?.metricsPort;
  }

  /** The address the Prometheus endpoint listens on (`metricsHost`, default 127.0.0.1), once started. */
  get metricsHost(): string | undefined {
    return this.monitoring?.metricsHost;
  }

  /** This worker as remote control, events and metrics see it (monitoring.ts). */
  private monitored(): MonitoredWorker {
    return {
      hostname: this.hostname,
      app: this.app,
      options: this.options,
      revoked: this.revoked,
      tracker: this.requests,
      observers: this.observers,
      log: this.log,
      pool: () => this.pool,
      startedAt: () => this.startedAt,
      revoke: (id, options) => this.revoke(id, options),
      setRateLimit: (name, rate) => this.setRateLimit(name, rate),
      stop: () => this.stop(),
      // add_consumer: one more consumer feeding the same loop (a delivery that arrives while stopping is handed back).
      consumeQueue: async (queue) => {
        const loop = this.loop;
        if (!loop || this.state !== 'running') throw new ConfigError(`worker ${this.hostname} is not running`);
        const broker = await this.app.getBroker();
        return broker.consume([queue], (d) => loop.onDelivery(d), { prefetch: this.options.prefetch, onInvalid: (i) => loop.onInvalid(i) });
      },
    };
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
