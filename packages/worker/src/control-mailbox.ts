/**
 * The worker's remote-control commands (Celery's `celery/worker/control.py`)
 * on core's {@link MailboxNode}: what `celery inspect …` / `celery control …`
 * and `taskq inspect|control` ask a worker, answered with the reply shapes
 * Celery's tools print.
 */
import os from 'node:os';
import { type App, argsRepr, type Consumer, type ControlHandler, type Fanout, kwargsRepr, type LamportClock, type Logger, MailboxNode, NO_REPLY, parseRateLimit } from '@taskq/core';
import type { Pool } from './pools/pool.js';
import { requestInfo, type RequestTracker } from './request-tracker.js';
import type { RevokedSet, RevokeOptions } from './revocation.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

/** What the commands need from the worker. */
export interface ControlledWorker {
  readonly hostname: string;
  readonly app: App;
  readonly options: ResolvedWorkerOptions;
  readonly revoked: RevokedSet;
  readonly tracker: RequestTracker;
  /** The pool in use now (it is replaced at start). */
  pool(): Pool;
  /** Milliseconds since the epoch when the worker started consuming. */
  startedAt(): number | undefined;
  revoke(taskId: string, options?: RevokeOptions): void;
  setRateLimit(taskName: string, rate: string | null): void;
  /** Warm shutdown. */
  stop(): Promise<unknown>;
  /** Turn task events on or off (`enable_events` / `disable_events`). */
  setTaskEvents?(enabled: boolean): void;
  /** Start consuming one more queue into the worker (`add_consumer`). */
  consumeQueue?(queue: string): Promise<Consumer>;
}

/** Queues consumed since start through `add_consumer`, by name; closed with the mailbox. */
export type AddedConsumers = Map<string, Consumer>;

const ok = (value: unknown): { ok: unknown } => ({ ok: value });
const nok = (value: unknown): { error: unknown } => ({ error: value });

/** The handlers, by Celery's command names. */
export function controlHandlers(w: ControlledWorker, clock: LamportClock, log: Logger, added: AddedConsumers = new Map()): Record<string, ControlHandler> {
  const hostname = w.hostname;
  const infos = (state: 'active' | 'reserved', safe: unknown) => w.tracker.list(state).map((r) => requestInfo(r, hostname, safe === true));
  return {
    ping: () => ok('pong'),
    hello: () => ({ revoked: Object.fromEntries(w.revoked.entries().map(([id, at]) => [id, at / 1000])), clock: clock.current }),
    active: (a) => infos('active', a.safe),
    reserved: (a) => infos('reserved', a.safe),
    scheduled: (a) =>
      w.tracker.list('scheduled').map((r) => ({
        // The message's own eta text: Celery's isoformat with its offset.
        eta: r.delivery.message.headers.eta ?? (r.etaMs === undefined ? null : new Date(r.etaMs).toISOString()),
        priority: r.delivery.message.properties.priority ?? 0,
        request: requestInfo(r, hostname, a.safe === true),
      })),
    registered: (a) => {
      const items = Array.isArray(a.taskinfoitems) ? (a.taskinfoitems as unknown[]).filter((i): i is string => typeof i === 'string') : [];
      return w.app.tasks.names().map((name) => describeTask(w.app, name, items));
    },
    query_task: (a) => {
      const ids = Array.isArray(a.ids) ? a.ids : typeof a.ids === 'string' ? [a.ids] : [];
      const out: Record<string, unknown> = {};
      for (const id of ids) {
        const r = typeof id === 'string' ? w.tracker.find(id) : undefined;
        if (r) out[id as string] = [r.state === 'active' ? 'active' : r.state, requestInfo(r, hostname)];
      }
      return out;
    },
    stats: () => workerStats(w, clock),
    revoked: () => w.revoked.entries().map(([id]) => id),
    active_queues: () => [...w.options.queues, ...added.keys()].map(queueInfo),
    conf: () => celeryConf(w),
    report: () => ok(report(w)),
    revoke: (a) => revoke(w, a, log),
    terminate: (a) => revoke(w, { ...a, terminate: true }, log),
    rate_limit: (a) => {
      const name = String(a.task_name ?? '');
      const rate = a.rate_limit === null || a.rate_limit === undefined || a.rate_limit === '' || a.rate_limit === 0 || a.rate_limit === '0' ? null : String(a.rate_limit);
      if (rate !== null) {
        try {
          parseRateLimit(rate);
        } catch (error) {
          return nok(`Invalid rate limit string: ${(error as Error).message}`);
        }
      }
      if (!w.app.tasks.has(name)) return nok('unknown task');
      w.setRateLimit(name, rate);
      return ok(rate === null ? 'rate limit disabled successfully' : 'new rate limit set successfully');
    },
    time_limit: (a) => {
      const task = w.app.tasks.get(String(a.task_name ?? ''));
      if (!task) return nok('unknown task');
      // Read by the trace of tasks run in this process (async and solo pools); a message's own limits still win.
      const options = task.options as { timeLimit: number | undefined; softTimeLimit: number | undefined };
      options.timeLimit = typeof a.hard === 'number' && a.hard > 0 ? a.hard : undefined;
      options.softTimeLimit = typeof a.soft === 'number' && a.soft > 0 ? a.soft : undefined;
      log.info({ taskName: task.name, hard: options.timeLimit, soft: options.softTimeLimit }, `New time limits for tasks of type ${task.name}`);
      return ok('time limits set successfully');
    },
    shutdown: (a) => {
      log.warn({ msg: a.msg }, 'Got shutdown from remote');
      setImmediate(() => void w.stop());
      return NO_REPLY;
    },
    pool_grow: (a) => resizePool(w, Number(a.n ?? 1)),
    pool_shrink: (a) => resizePool(w, -Number(a.n ?? 1)),
    add_consumer: async (a) => {
      const queue = typeof a.queue === 'string' ? a.queue.trim() : '';
      if (queue === '') return nok('add_consumer needs a queue name');
      if (w.options.queues.includes(queue) || added.has(queue)) return ok(`already consuming from '${queue}'`);
      if (!w.consumeQueue) return nok('this worker cannot add consumers');
      added.set(queue, await w.consumeQueue(queue));
      log.info({ queue }, `Started consuming from ${queue}`);
      return ok(`add consumer ${queue}`);
    },
    cancel_consumer: async (a) => {
      const queue = typeof a.queue === 'string' ? a.queue : '';
      const consumer = added.get(queue);
      if (consumer) {
        added.delete(queue);
        // close(): what it handed out and the worker has not settled goes back to the queue.
        await consumer.close();
        log.info({ queue }, `Stopped consuming from ${queue}`);
        return ok(`no longer consuming from '${queue}'`);
      }
      if (w.options.queues.includes(queue)) {
        return nok(`'${queue}' was given at start (-Q): taskq cancels only queues added with add_consumer; restart the worker without it`);
      }
      return ok(`no longer consuming from '${queue}'`);
    },
    enable_events: () => {
      if (!w.setTaskEvents) return nok('events are not available on this worker');
      w.setTaskEvents(true);
      return ok('task events enabled');
    },
    disable_events: () => {
      if (!w.setTaskEvents) return nok('events are not available on this worker');
      w.setTaskEvents(false);
      return ok('task events disabled');
    },
    heartbeat: () => undefined,
  };
}

/** Start answering the mailbox on `fanout` as `w.hostname`. */
export async function startControlMailbox(w: ControlledWorker, fanout: Fanout, clock: LamportClock, log: Logger): Promise<{ stop(): Promise<void> }> {
  const added: AddedConsumers = new Map();
  const node = new MailboxNode({ nodename: w.hostname, fanout, log, clock, handlers: controlHandlers(w, clock, log, added) });
  await node.start();
  return {
    async stop() {
      await node.stop();
      await Promise.allSettled([...added.values()].map((c) => c.close()));
      added.clear();
    },
  };
}

function revoke(w: ControlledWorker, a: Record<string, unknown>, log: Logger): unknown {
  const ids = (Array.isArray(a.task_id) ? a.task_id : [a.task_id]).filter((id): id is string => typeof id === 'string' && id !== '');
  const terminate = a.terminate === true;
  const signal = typeof a.signal === 'string' && a.signal !== '' ? (a.signal.toUpperCase().startsWith('SIG') ? a.signal.toUpperCase() : `SIG${a.signal.toUpperCase()}`) : 'SIGTERM';
  const running = terminate ? ids.filter((id) => w.tracker.find(id) !== undefined) : [];
  for (const id of ids) w.revoke(id, { terminate, signal: signal as NodeJS.Signals });
  if (terminate) {
    if (running.length === 0) return ok('terminate: tasks unknown');
    return ok(`terminate: ${running.join(', ')}`);
  }
  log.debug({ ids }, 'revoke from remote');
  return ok(`tasks ${ids.join(', ')} flagged as revoked`);
}

function resizePool(w: ControlledWorker, delta: number): unknown {
  const pool = w.pool();
  if (!pool.resize) return nok(`the ${pool.kind} pool cannot be resized`);
  if (!Number.isInteger(delta) || delta === 0) return nok('n must be a whole number >= 1');
  pool.resize(Math.max(1, pool.size + delta));
  return ok(delta > 0 ? 'pool will grow' : 'pool will shrink');
}

/** Celery's `registered` line: the name, with `[field=value …]` for the asked task info items. */
function describeTask(app: App, name: string, items: readonly string[]): string {
  if (items.length === 0) return name;
  const options = app.tasks.get(name)?.options as Record<string, unknown> | undefined;
  const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  const fields = items.map((item) => [item, options?.[camel(item)]] as const).filter(([, v]) => v !== undefined && v !== null);
  // A parsed rate limit keeps the text it was given ('10/m'), which is what Celery shows.
  const show = (v: unknown) => (typeof v === 'object' && v !== null && 'text' in v ? String(v.text) : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return fields.length === 0 ? name : `${name} [${fields.map(([k, v]) => `${k}=${show(v)}`).join(' ')}]`;
}

/** `inspect stats`, with Celery's keys. */
export function workerStats(w: ControlledWorker, clock: LamportClock): Record<string, unknown> {
  const pool = w.pool();
  const started = w.startedAt();
  const poolInfo: Record<string, unknown> = {
    implementation: `taskq:${pool.kind}`,
    'max-concurrency': pool.size,
    'max-tasks-per-child': w.options.maxTasksPerChild ?? 'N/A',
    timeouts: [w.options.softTimeLimit ?? 0, w.options.timeLimit ?? 0],
  };
  if (pool.kind === 'threads') poolInfo.threads = pool.size;
  if (pool.kind === 'process') poolInfo.processes = (pool as { childIds?: number[] }).childIds ?? [];
  return {
    total: { ...w.tracker.total },
    pid: process.pid,
    clock: String(clock.current),
    uptime: started === undefined ? 0 : Math.floor((Date.now() - started) / 1000),
    pool: poolInfo,
    broker: brokerInfo(w.app.conf.brokerUrl, w.app.conf.brokerTransportOptions, w.app.conf.brokerConnectionTimeout),
    prefetch_count: w.options.prefetch,
    rusage: rusage(),
  };
}

/** Celery's `broker` dict of `inspect stats` (kombu's `Connection.info()`), password left out. */
function brokerInfo(url: string, transportOptions: Record<string, unknown>, timeoutMs: number): Record<string, unknown> {
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  const transport = (u?.protocol ?? 'memory:').replace(/:$/, '');
  const path = u?.pathname.replace(/^\//, '') ?? '';
  return {
    hostname: u?.hostname || null,
    userid: u?.username ? decodeURIComponent(u.username) : null,
    virtual_host: transport.startsWith('amqp') ? decodeURIComponent(path) || '/' : path || '0',
    port: u?.port ? Number(u.port) : null,
    insist: false,
    ssl: transport === 'rediss' || transport === 'amqps',
    transport,
    connect_timeout: timeoutMs / 1000,
    transport_options: transportOptions,
    login_method: null,
    uri_prefix: null,
    heartbeat: null,
    failover_strategy: 'round-robin',
    alternates: [],
  };
}

/** `getrusage(RUSAGE_SELF)` under Python's field names. */
function rusage(): Record<string, number> {
  const r = process.resourceUsage();
  return {
    utime: r.userCPUTime / 1e6,
    stime: r.systemCPUTime / 1e6,
    maxrss: r.maxRSS,
    ixrss: r.sharedMemorySize,
    idrss: r.unsharedDataSize,
    isrss: r.unsharedStackSize,
    minflt: r.minorPageFault,
    majflt: r.majorPageFault,
    nswap: r.swappedOut,
    inblock: r.fsRead,
    oublock: r.fsWrite,
    msgsnd: r.ipcSent,
    msgrcv: r.ipcReceived,
    nsignals: r.signalsCount,
    nvcsw: r.voluntaryContextSwitches,
    nivcsw: r.involuntaryContextSwitches,
  };
}

/** `inspect active_queues`: kombu's `Queue.as_dict(recurse=True)` of each consumed queue, as Celery declares task queues. */
function queueInfo(name: string): Record<string, unknown> {
  return {
    name,
    exchange: { name, type: 'direct', arguments: null, durable: true, passive: false, auto_delete: false, delivery_mode: null, no_declare: false },
    routing_key: name,
    queue_arguments: null,
    binding_arguments: null,
    consumer_arguments: null,
    durable: true,
    exclusive: false,
    auto_delete: false,
    no_ack: false,
    alias: null,
    bindings: [],
    no_declare: null,
    expires: null,
    message_ttl: null,
    max_length: null,
    max_length_bytes: null,
    max_priority: null,
  };
}

/** `inspect conf`: the app's settings under Celery's names. */
function celeryConf(w: ControlledWorker): Record<string, unknown> {
  const c = w.app.conf;
  return {
    broker_url: w.app.describe().broker,
    result_backend: w.app.describe().backend,
    task_default_queue: c.defaultQueue,
    result_expires: c.resultExpires,
    result_extended: c.resultExtended,
    task_always_eager: c.taskAlwaysEager,
    task_acks_late: c.taskAcksLate,
    task_track_started: c.taskTrackStarted,
    worker_prefetch_multiplier: w.options.prefetchMultiplier,
    worker_concurrency: w.options.concurrency,
    worker_pool: w.options.pool,
    broker_transport_options: c.brokerTransportOptions,
    include: [],
  };
}

/** `inspect report`: Celery's bug-report header, in taskq terms. */
function report(w: ControlledWorker): string {
  const b = w.app.describe();
  return [
    `software -> taskq (node ${process.version}) platform -> ${os.type()} ${os.release()} ${os.arch()}`,
    `app -> ${w.app.name} hostname -> ${w.hostname}`,
    `broker -> ${b.broker} results -> ${b.backend}`,
    `pool -> ${w.pool().kind} concurrency -> ${w.pool().size} queues -> ${w.options.queues.join(', ')}`,
    `tasks -> ${w.app.tasks.names().join(', ')}`,
  ].join('\n');
}

/** Celery's `args`/`kwargs` repr strings of a message (for `safe` listings and events). */
export function reprOfMessage(headers: { argsrepr?: string; kwargsrepr?: string }, body: readonly [unknown[], Record<string, unknown>, unknown]): { args: string; kwargs: string } {
  return {
    args: headers.argsrepr || argsRepr(body[0]),
    kwargs: headers.kwargsrepr || kwargsRepr(body[1]),
  };
}
