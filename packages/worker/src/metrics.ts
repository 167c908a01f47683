/**
 * Prometheus metrics of a worker (`--metrics-port`), in the text exposition
 * format on plain `node:http` — no client library: tasks by name and state,
 * a runtime histogram, what the worker holds (active, reserved, scheduled),
 * pool size, and the depth of the queues it consumes (asked of the broker
 * at each scrape).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Broker, Delivery, Logger, TraceOutcome } from '@taskq/core';
import type { ControlledWorker } from './control-mailbox.js';
import type { TaskObserver } from './request-tracker.js';

/** Where the metrics server listens unless `metricsHost` says otherwise: loopback only, as the endpoint has no authentication. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** Upper bounds (seconds) of the runtime histogram's buckets. */
export const RUNTIME_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const STATE_OF: Record<TraceOutcome['kind'], string> = {
  success: 'succeeded',
  failure: 'failed',
  retry: 'retried',
  revoked: 'revoked',
  reject: 'rejected',
  ignored: 'ignored',
};

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** Counts kept from the consumer loop's reports, rendered on scrape. */
export class WorkerMetrics implements TaskObserver {
  private readonly receivedCounts = new Map<string, number>();
  private readonly outcomes = new Map<string, number>();
  private readonly runtimes = new Map<string, Histogram>();

  constructor(
    private readonly worker: ControlledWorker,
    private readonly broker: Broker,
  ) {}

  received(delivery: Delivery): void {
    const name = delivery.message.headers.task;
    this.receivedCounts.set(name, (this.receivedCounts.get(name) ?? 0) + 1);
  }

  started(): void {}

  finished(delivery: Delivery, outcome: TraceOutcome): void {
    const name = delivery.message.headers.task;
    const key = `${name}\u0000${STATE_OF[outcome.kind]}`;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    if ('runtimeMs' in outcome) {
      let h = this.runtimes.get(name);
      if (!h) {
        h = { counts: RUNTIME_BUCKETS.map(() => 0), sum: 0, count: 0 };
        this.runtimes.set(name, h);
      }
      const seconds = outcome.runtimeMs / 1000;
      for (let i = 0; i < RUNTIME_BUCKETS.length; i++) if (seconds <= RUNTIME_BUCKETS[i]!) h.counts[i]!++;
      h.sum += seconds;
      h.count++;
    }
  }

  released(): void {}

  /** The exposition text (Prometheus text format 0.0.4). */
  async render(): Promise<string> {
    const w = this.worker;
    const node = { worker: w.hostname };
    const out: string[] = [];
    const metric = (name: string, type: string, help: string): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    metric('taskq_tasks_received_total', 'counter', 'Task messages received, by task name.');
    for (const [name, n] of this.receivedCounts) out.push(sample('taskq_tasks_received_total', { ...node, name }, n));
    metric('taskq_tasks_total', 'counter', 'Tasks that ran (or were discarded), by task name and final state.');
    for (const [key, n] of this.outcomes) {
      const [name, state] = key.split('\u0000') as [string, string];
      out.push(sample('taskq_tasks_total', { ...node, name, state }, n));
    }
    metric('taskq_task_runtime_seconds', 'histogram', 'Task run time in seconds, by task name.');
    for (const [name, h] of this.runtimes) {
      RUNTIME_BUCKETS.forEach((le, i) => {
        out.push(sample('taskq_task_runtime_seconds_bucket', { ...node, name, le: String(le) }, h.counts[i]!));
      });
      out.push(sample('taskq_task_runtime_seconds_bucket', { ...node, name, le: '+Inf' }, h.count));
      out.push(sample('taskq_task_runtime_seconds_sum', { ...node, name }, h.sum));
      out.push(sample('taskq_task_runtime_seconds_count', { ...node, name }, h.count));
    }
    const active = w.tracker.list('active').length;
    const reserved = w.tracker.list('reserved').length;
    const scheduled = w.tracker.list('scheduled').length;
    metric('taskq_worker_active_tasks', 'gauge', 'Tasks running now.');
    out.push(sample('taskq_worker_active_tasks', node, active));
    metric('taskq_worker_prefetched_tasks', 'gauge', 'Task messages held but not running: reserved (waiting for a slot) and scheduled (eta).');
    out.push(sample('taskq_worker_prefetched_tasks', { ...node, state: 'reserved' }, reserved));
    out.push(sample('taskq_worker_prefetched_tasks', { ...node, state: 'scheduled' }, scheduled));
    metric('taskq_worker_pool_size', 'gauge', 'Tasks the pool may run at once (concurrency).');
    out.push(sample('taskq_worker_pool_size', { ...node, pool: w.pool().kind }, w.pool().size));
    metric('taskq_worker_uptime_seconds', 'gauge', 'Seconds since the worker started consuming.');
    const started = w.startedAt();
    out.push(sample('taskq_worker_uptime_seconds', node, started === undefined ? 0 : (Date.now() - started) / 1000));
    metric('taskq_queue_depth', 'gauge', 'Messages waiting in each queue the worker consumes (all priorities), as the broker reports them.');
    const depths = await Promise.allSettled(w.options.queues.map((q) => this.broker.queueSize(q)));
    w.options.queues.forEach((queue, i) => {
      const d = depths[i]!;
      if (d.status === 'fulfilled') out.push(sample('taskq_queue_depth', { ...node, queue }, d.value));
    });
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory of the worker process.');
    out.push(sample('process_resident_memory_bytes', {}, process.memoryUsage.rss()));
    return `${out.join('\n')}\n`;
  }
}

function sample(name: string, labels: Record<string, string>, value: number): string {
  const entries = Object.entries(labels);
  const text = entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
  return `${name}${text} ${Number.isFinite(value) ? value : 0}`;
}

/** The HTTP endpoint: `GET /metrics` (and `/`) answer the exposition text. */
export class MetricsServer {
  private readonly server: http.Server;

  constructor(
    private readonly metrics: WorkerMetrics,
    private readonly log: Logger,
  ) {
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0];
      if (req.method !== 'GET' || (path !== '/metrics' && path !== '/')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
        return;
      }
      this.metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (error: unknown) => {
          this.log.error({ err: error }, 'rendering metrics failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
        },
      );
    });
  }

  /** The port it listens on (after `listen`). */
  get port(): number | undefined {
    return (this.server.address() as AddressInfo | null)?.port;
  }

  /** The address it listens on (after `listen`). */
  get host(): string | undefined {
    return (this.server.address() as AddressInfo | null)?.address;
  }

  /**
   * Listen on `port` at `host`. The endpoint has no authentication, so it
   * binds the loopback interface unless told otherwise (`0.0.0.0` for a
   * Prometheus on another host).
   */
  listen(port: number, host = DEFAULT_METRICS_HOST): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        this.log.info({ port: this.port, host: this.host }, `metrics on http://${host}:${this.port}/metrics`);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
