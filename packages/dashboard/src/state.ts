/**
 * The dashboard's picture of the fleet, kept in memory and fed by Celery
 * events (from taskq and Python Celery workers alike) plus what the poller
 * learns from `inspect stats/active/active_queues` and queue depths.
 *
 * Pure and clock-injected, so tests feed it events and read the snapshot.
 */
import type { CeleryEvent } from '@taskq/core';

/** A task's state as Celery's monitors name them. */
export type TaskStateName = 'PENDING' | 'RECEIVED' | 'STARTED' | 'SUCCESS' | 'FAILURE' | 'RETRY' | 'REVOKED' | 'REJECTED';

const STATE_OF_EVENT: Readonly<Record<string, TaskStateName>> = {
  'task-sent': 'PENDING',
  'task-received': 'RECEIVED',
  'task-started': 'STARTED',
  'task-succeeded': 'SUCCESS',
  'task-failed': 'FAILURE',
  'task-retried': 'RETRY',
  'task-revoked': 'REVOKED',
  'task-rejected': 'REJECTED',
};

/** States after which a task does not change any more (unless retried). */
export const READY_STATES: ReadonlySet<TaskStateName> = new Set(['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED']);

/** Celery's heartbeat expiry: a worker is offline once no heartbeat came for twice its `freq`. */
const HEARTBEAT_EXPIRE_FACTOR = 2;

/** One worker as the dashboard shows it. */
export interface WorkerView {
  hostname: string;
  online: boolean;
  /** Seconds since the last worker event (heartbeat, online), or null if none came yet. */
  heartbeatAge: number | null;
  swIdent: string | null;
  swVer: string | null;
  pid: number | null;
  freq: number;
  active: number;
  processed: number;
  loadavg: number[];
  /** From `inspect stats`: `pool.implementation`. */
  pool: string | null;
  /** From `inspect stats`: `pool.max-concurrency`. */
  concurrency: number | null;
  /** From `inspect active_queues`. */
  queues: string[];
  /** Ids of the tasks `inspect active` reported. */
  activeTasks: string[];
}

/** One task as the dashboard shows it. */
export interface TaskView {
  uuid: string;
  name: string | null;
  state: TaskStateName;
  args: string | null;
  kwargs: string | null;
  worker: string | null;
  queue: string | null;
  retries: number;
  eta: string | null;
  expires: string | null;
  /** Unix seconds of each state change the events told. */
  sent: number | null;
  received: number | null;
  started: number | null;
  /** When it became ready (succeeded, failed, revoked, rejected). */
  finished: number | null;
  runtime: number | null;
  result: string | null;
  exception: string | null;
  traceback: string | null;
  rootId: string | null;
  parentId: string | null;
  /**
   * A revoke was asked from this dashboard. Workers hold a revoked countdown
   * task until its eta and only then report task-revoked (as Celery does), so
   * the page says so in the meantime.
   */
  revokeRequested: boolean;
  /** Timestamp of the event that set `state` (later events win; ordering across hosts is by timestamp). */
  updated: number;
}

/** A queue with its depth and its rates over the rate window. */
export interface QueueView {
  name: string;
  depth: number | null;
  /** Messages per second put in: derived from the depth change plus what went out. */
  rateIn: number;
  /** Messages per second taken out: task-received events of tasks known to be from this queue. */
  rateOut: number;
}

/** Throughput and failures per second, in equal buckets, oldest first. */
export interface Series {
  /** Unix ms of the first bucket's start. */
  start: number;
  /** Bucket width in ms. */
  step: number;
  succeeded: number[];
  failed: number[];
}

/** Everything the browser needs to draw the views. */
export interface Snapshot {
  now: number;
  workers: WorkerView[];
  tasks: TaskView[];
  queues: QueueView[];
  series: Series;
  totals: Record<TaskStateName, number>;
}

export interface FleetStateOptions {
  /** Tasks kept (oldest dropped first); default 2000. */
  maxTasks?: number;
  /** Width of the chart in ms (default 10 minutes). */
  seriesWindowMs?: number;
  /** Bucket width in ms (default 10 s). */
  seriesStepMs?: number;
  /** Window over which queue rates are measured, ms (default 60 s). */
  rateWindowMs?: number;
  /** The clock (ms); tests pass their own. */
  now?: () => number;
}

interface WorkerRecord extends Omit<WorkerView, 'online' | 'heartbeatAge'> {
  lastSeen: number | null;
  offline: boolean;
}

interface DepthSample {
  at: number;
  depth: number;
}

function str(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The fleet as the dashboard knows it. */
export class FleetState {
  private readonly workers = new Map<string, WorkerRecord>();
  /** Insertion order is recency order: a task is moved to the end on each event. */
  private readonly tasks = new Map<string, TaskView>();
  private readonly extraQueues = new Set<string>();
  private readonly depths = new Map<string, DepthSample[]>();
  /** Arrival times (ms) of task-received events per queue, for rate out. */
  private readonly outs = new Map<string, number[]>();
  private readonly buckets = new Map<number, { succeeded: number; failed: number }>();
  private readonly maxTasks: number;
  private readonly windowMs: number;
  private readonly stepMs: number;
  private readonly rateWindowMs: number;
  private readonly now: () => number;
  /** Bumped on every change, so the server only pushes when something changed. */
  version = 0;

  constructor(options: FleetStateOptions = {}) {
    this.maxTasks = options.maxTasks ?? 2000;
    this.windowMs = options.seriesWindowMs ?? 10 * 60_000;
    this.stepMs = options.seriesStepMs ?? 10_000;
    this.rateWindowMs = options.rateWindowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Apply one Celery event (worker-* or task-*); unknown types are ignored. */
  apply(event: CeleryEvent): void {
    if (event.type.startsWith('worker-')) this.applyWorker(event);
    else if (event.type.startsWith('task-')) this.applyTask(event);
    else return;
    this.version++;
  }

  private worker(hostname: string): WorkerRecord {
    let w = this.workers.get(hostname);
    if (!w) {
      w = { hostname, lastSeen: null, offline: false, swIdent: null, swVer: null, pid: null, freq: 2, active: 0, processed: 0, loadavg: [], pool: null, concurrency: null, queues: [], activeTasks: [] };
      this.workers.set(hostname, w);
    }
    return w;
  }

  private applyWorker(e: CeleryEvent): void {
    const w = this.worker(e.hostname);
    w.lastSeen = this.now();
    w.offline = e.type === 'worker-offline';
    w.swIdent = str(e.sw_ident) ?? w.swIdent;
    w.swVer = str(e.sw_ver) ?? w.swVer;
    w.pid = num(e.pid) ?? w.pid;
    w.freq = num(e.freq) ?? w.freq;
    w.active = num(e.active) ?? w.active;
    w.processed = num(e.processed) ?? w.processed;
    if (Array.isArray(e.loadavg)) w.loadavg = e.loadavg.filter((n): n is number => typeof n === 'number');
  }

  private applyTask(e: CeleryEvent): void {
    if (typeof e.uuid !== 'string') return;
    const state = STATE_OF_EVENT[e.type];
    if (!state) return;
    const ts = num(e.timestamp) ?? this.now() / 1000;
    let t = this.tasks.get(e.uuid);
    if (t) this.tasks.delete(e.uuid);
    t ??= {
      uuid: e.uuid,
      name: null,
      state,
      args: null,
      kwargs: null,
      worker: null,
      queue: null,
      retries: 0,
      eta: null,
      expires: null,
      sent: null,
      received: null,
      started: null,
      finished: null,
      runtime: null,
      result: null,
      exception: null,
      traceback: null,
      rootId: null,
      parentId: null,
      revokeRequested: false,
      updated: Number.NEGATIVE_INFINITY,
    };
    this.tasks.set(e.uuid, t);
    // Fields merge whatever the order; the state follows the latest event (a late task-sent does not undo SUCCESS).
    if (ts >= t.updated) {
      t.state = state;
      t.updated = ts;
    }
    t.name = str(e.name) ?? t.name;
    t.args = str(e.args) ?? t.args;
    t.kwargs = str(e.kwargs) ?? t.kwargs;
    t.eta = str(e.eta) ?? t.eta;
    t.expires = str(e.expires) ?? t.expires;
    t.rootId = str(e.root_id) ?? t.rootId;
    t.parentId = str(e.parent_id) ?? t.parentId;
    if (typeof e.retries === 'number') t.retries = Math.max(t.retries, e.retries);
    if (e.type === 'task-sent') {
      t.sent = ts;
      t.queue = str(e.queue) ?? str(e.routing_key) ?? t.queue;
    } else {
      t.worker = e.hostname;
    }
    switch (e.type) {
      case 'task-received':
        t.received = ts;
        this.countOut(t);
        break;
      case 'task-started':
        t.started = ts;
        break;
      case 'task-succeeded':
        t.finished = ts;
        t.runtime = num(e.runtime);
        t.result = str(e.result);
        this.countFinished('succeeded');
        break;
      case 'task-failed':
        t.finished = ts;
        t.exception = str(e.exception);
        t.traceback = str(e.traceback);
        this.countFinished('failed');
        break;
      case 'task-retried':
        t.exception = str(e.exception);
        t.traceback = str(e.traceback);
        // The retry is re-sent with retries + 1; count it now so the page shows it before the re-receipt.
        t.retries += 1;
        break;
      case 'task-revoked':
      case 'task-rejected':
        t.finished = ts;
        break;
      default:
        break;
    }
    while (this.tasks.size > this.maxTasks) this.tasks.delete(this.tasks.keys().next().value!);
  }

  private countFinished(kind: 'succeeded' | 'failed'): void {
    const key = Math.floor(this.now() / this.stepMs) * this.stepMs;
    const b = this.buckets.get(key) ?? { succeeded: 0, failed: 0 };
    b[kind]++;
    this.buckets.set(key, b);
    const oldest = key - this.windowMs;
    for (const k of this.buckets.keys()) if (k < oldest) this.buckets.delete(k);
  }

  /** Attribute a receipt to the task's queue: known from task-sent, else the worker's only queue. */
  private countOut(t: TaskView): void {
    let queue = t.queue;
    if (!queue && t.worker) {
      const queues = this.workers.get(t.worker)?.queues ?? [];
      if (queues.length === 1) queue = queues[0]!;
    }
    if (!queue) return;
    t.queue = queue;
    const list = this.outs.get(queue) ?? [];
    list.push(this.now());
    this.outs.set(queue, list);
  }

  /** Note that this dashboard asked the workers to revoke a task. */
  markRevokeRequested(id: string): void {
    const t = this.tasks.get(id);
    if (!t) return;
    t.revokeRequested = true;
    this.version++;
  }

  /** Merge a worker's `inspect stats` reply (pool and concurrency). */
  applyStats(hostname: string, stats: Record<string, unknown>): void {
    const w = this.worker(hostname);
    const pool = stats.pool as Record<string, unknown> | undefined;
    if (pool && typeof pool === 'object') {
      w.pool = str(pool.implementation) ?? w.pool;
      w.concurrency = num(pool['max-concurrency']) ?? w.concurrency;
    }
    w.pid = num(stats.pid) ?? w.pid;
    this.version++;
  }

  /** Merge a worker's `inspect active` reply: its running tasks, which also fill in tasks whose events were missed. */
  applyActive(hostname: string, active: unknown[]): void {
    const w = this.worker(hostname);
    const ids: string[] = [];
    for (const item of active) {
      if (item === null || typeof item !== 'object') continue;
      const r = item as Record<string, unknown>;
      if (typeof r.id !== 'string') continue;
      ids.push(r.id);
      if (!this.tasks.has(r.id)) {
        const started = num(r.time_start);
        const info = r.delivery_info as Record<string, unknown> | undefined;
        this.apply({ type: 'task-started', hostname, utcoffset: 0, pid: num(r.worker_pid) ?? 0, clock: 0, timestamp: started ?? this.now() / 1000, uuid: r.id });
        const t = this.tasks.get(r.id)!;
        t.name = str(r.name);
        t.args = str(r.args);
        t.kwargs = str(r.kwargs);
        t.queue = str(info?.routing_key);
      }
    }
    w.activeTasks = ids;
    this.version++;
  }

  /** Merge a worker's `inspect active_queues` reply. */
  applyActiveQueues(hostname: string, queues: unknown[]): void {
    const names = queues.map((q) => (q !== null && typeof q === 'object' ? str((q as Record<string, unknown>).name) : null)).filter((n): n is string => n !== null);
    this.worker(hostname).queues = names;
    this.version++;
  }

  /** Watch a queue even if no worker reports it (`--queues`). */
  addQueue(name: string): void {
    this.extraQueues.add(name);
  }

  /** Every queue to show: those workers consume, plus the added ones, sorted. */
  queueNames(): string[] {
    const names = new Set(this.extraQueues);
    for (const w of this.workers.values()) if (!w.offline) for (const q of w.queues) names.add(q);
    return [...names].sort();
  }

  /** Record a queue's depth as measured now. */
  recordDepth(queue: string, depth: number): void {
    const now = this.now();
    const list = this.depths.get(queue) ?? [];
    list.push({ at: now, depth });
    while (list.length > 1 && list[0]!.at < now - this.rateWindowMs) list.shift();
    this.depths.set(queue, list);
    this.version++;
  }

  /** A task by id. */
  task(id: string): TaskView | undefined {
    return this.tasks.get(id);
  }

  /** Tasks, most recent first, optionally filtered by state and name substring. */
  listTasks(filter: { state?: string; name?: string; limit?: number } = {}): TaskView[] {
    const out: TaskView[] = [];
    const all = [...this.tasks.values()];
    for (let i = all.length - 1; i >= 0 && out.length < (filter.limit ?? Number.POSITIVE_INFINITY); i--) {
      const t = all[i]!;
      if (filter.state && t.state !== filter.state) continue;
      if (filter.name && !(t.name ?? '').includes(filter.name)) continue;
      out.push(t);
    }
    return out;
  }

  /** Workers, sorted by name, with liveness computed now. */
  listWorkers(): WorkerView[] {
    const now = this.now();
    return [...this.workers.values()]
      .sort((a, b) => a.hostname.localeCompare(b.hostname))
      .map(({ lastSeen, offline, ...w }) => {
        const age = lastSeen === null ? null : (now - lastSeen) / 1000;
        // Workers known only from inspect replies count as online until their events say otherwise.
        const online = !offline && (age === null || age < w.freq * HEARTBEAT_EXPIRE_FACTOR);
        return { ...w, online, heartbeatAge: age === null ? null : Math.round(age * 10) / 10 };
      });
  }

  /** Queues with depth and rates over the rate window. */
  listQueues(): QueueView[] {
    const now = this.now();
    return this.queueNames().map((name) => {
      const samples = this.depths.get(name) ?? [];
      const last = samples.at(-1);
      const outs = (this.outs.get(name) ?? []).filter((at) => at >= now - this.rateWindowMs);
      this.outs.set(name, outs);
      const first = samples[0];
      const span = first && last && last.at > first.at ? (last.at - first.at) / 1000 : 0;
      const outsInSpan = first ? outs.filter((at) => at >= first.at).length : 0;
      const rateOut = outs.length / (this.rateWindowMs / 1000);
      const rateIn = span > 0 ? Math.max(0, (last!.depth - first!.depth + outsInSpan) / span) : 0;
      return { name, depth: last?.depth ?? null, rateIn: round2(rateIn), rateOut: round2(rateOut) };
    });
  }

  /** Succeeded and failed per second in each bucket of the chart window. */
  series(): Series {
    const end = Math.floor(this.now() / this.stepMs) * this.stepMs;
    const n = Math.round(this.windowMs / this.stepMs);
    const start = end - (n - 1) * this.stepMs;
    const succeeded: number[] = [];
    const failed: number[] = [];
    for (let i = 0; i < n; i++) {
      const b = this.buckets.get(start + i * this.stepMs);
      succeeded.push(round2((b?.succeeded ?? 0) / (this.stepMs / 1000)));
      failed.push(round2((b?.failed ?? 0) / (this.stepMs / 1000)));
    }
    return { start, step: this.stepMs, succeeded, failed };
  }

  /** The whole picture for the browser (tasks capped at `taskLimit`, most recent first). */
  snapshot(taskLimit = 500): Snapshot {
    const totals = { PENDING: 0, RECEIVED: 0, STARTED: 0, SUCCESS: 0, FAILURE: 0, RETRY: 0, REVOKED: 0, REJECTED: 0 };
    for (const t of this.tasks.values()) totals[t.state]++;
    return { now: this.now(), workers: this.listWorkers(), tasks: this.listTasks({ limit: taskLimit }), queues: this.listQueues(), series: this.series(), totals };
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
