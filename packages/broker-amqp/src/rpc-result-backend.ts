/**
 * The `rpc://` result backend, Celery's "results as AMQP messages"
 * (celery-protocol.md §4.4): each state of a task is published to the default
 * exchange with routing key = the task's `reply_to` (the client app's oid)
 * and `correlation_id` = the task id; the client consumes its reply queue
 * `<oid>` (non-durable, auto-delete, `x-expires` = result_expires) and keeps
 * what it received in a local cache.
 *
 * Semantics (Celery's): a result is readable only by the process that owns
 * the reply queue, and only once — it is a message, not a stored record;
 * nothing is kept after the process exits.
 */
import { randomUUID } from 'node:crypto';
import {
  BrokerConnectionError,
  type Logger,
  parseJson,
  READY_STATES,
  type ResultBackend,
  type ResultMeta,
  stringifyJson,
  type TaskState,
  TimeoutError,
  createLogger,
} from '@taskq/core';
import type { Channel, Message } from 'amqplib';
import { AmqpConnection } from './amqp-connection.js';
import { replyCode, toTaskqError } from './amqp-errors.js';
import { parseAmqpUrls } from './amqp-url.js';
import { DEFAULT_EXCHANGE, DELIVERY_MODE_TRANSIENT, replyQueueSpec } from './celery-topology.js';
import { ConfirmPublisher } from './confirm-publisher.js';
import { TopologyManager } from './topology-manager.js';

export interface RpcResultBackendOptions {
  /** The AMQP broker URL the results travel through (rpc:// has no address of its own: it is the broker's). */
  url: string;
  /** The reply queue this process consumes: the app's oid, the `reply_to` of the tasks it sends. Default: a random UUID. */
  oid?: string;
  /** `result_expires` in seconds: the `x-expires` of the reply queue (default 1 day). */
  resultExpires?: number;
  /** How long a store waits for a lost connection, ms (default 10000). */
  connectionTimeoutMs?: number;
  log?: Logger;
  /** Extra socket options for amqplib (TLS). */
  socketOptions?: Record<string, unknown>;
}

/** Where a state goes; what the worker knows about the task beyond its id. */
export interface StoreContext {
  /** The task's `reply_to` property. */
  replyTo?: string;
}

/** How many received states are kept (Celery's `result_cache_max` is unbounded by default; this is a safety cap). */
const CACHE_MAX = 10_000;

export class RpcResultBackend implements ResultBackend {
  readonly backend = 'rpc';
  readonly oid: string;
  readonly connection: AmqpConnection;
  private readonly topology: TopologyManager;
  private readonly publisher: ConfirmPublisher;
  private readonly log: Logger;
  private readonly expiresMs: number;
  private readonly cache = new Map<string, ResultMeta>();
  /** Bodies this process published to a queue it reads itself: applied at once, skipped when they come back. */
  private readonly echoes = new Map<string, string[]>();
  private readonly waiters = new Map<string, Set<{ resolve(meta: ResultMeta): void; reject(error: unknown): void }>>();
  /** Reply queues consumed, by name. */
  private readonly consumed = new Set<string>();
  private channel: Promise<Channel> | undefined;
  private closed = false;
  private resuming = false;

  constructor(options: RpcResultBackendOptions) {
    this.oid = options.oid ?? randomUUID();
    this.log = (options.log ?? createLogger()).child({ backend: 'rpc' });
    this.expiresMs = (options.resultExpires ?? 86_400) * 1000;
    const timeout = options.connectionTimeoutMs ?? 10_000;
    this.connection = new AmqpConnection({ endpoints: parseAmqpUrls(options.url), log: this.log, socketOptions: options.socketOptions, connectionName: 'taskq rpc results' });
    this.topology = new TopologyManager(this.connection, this.log, () => timeout);
    this.publisher = new ConfirmPublisher(this.connection, this.log, () => timeout);
  }

  async connect(): Promise<void> {
    await this.connection.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.waiters.values()) for (const w of set) w.reject(new BrokerConnectionError('the rpc:// result backend was closed while waiting'));
    this.waiters.clear();
    this.publisher.close();
    this.topology.close();
    await this.connection.close();
  }

  /**
   * Publish a state to the task's reply queue: `context.replyTo` (the
   * message's `reply_to`, passed by the worker), else this backend's own queue.
   */
  async store(taskId: string, meta: ResultMeta, context: StoreContext = {}): Promise<void> {
    const replyTo = context.replyTo ?? this.oid;
    const body = stringifyJson(
      { task_id: taskId, status: meta.status, result: meta.result, traceback: meta.traceback ?? null, children: meta.children ?? [] },
      'rpc result',
    );
    const local = replyTo === this.oid || this.consumed.has(replyTo);
    await this.publisher.publish(
      { exchange: DEFAULT_EXCHANGE, routingKey: replyTo, mandatory: true },
      Buffer.from(body, 'utf8'),
      { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: DELIVERY_MODE_TRANSIENT, priority: 0, correlationId: taskId, headers: {} },
      replyTo === this.oid ? () => this.topology.declare(replyQueueSpec(this.oid, this.expiresMs)) : undefined,
    );
    if (local) {
      const list = this.echoes.get(taskId) ?? [];
      list.push(body);
      this.echoes.set(taskId, list);
      this.apply(taskId, structuredClone({ ...meta, task_id: taskId }));
    }
  }

  /** The last state this process received for the task (reading what waits in its reply queue first). */
  async get(taskId: string): Promise<ResultMeta | undefined> {
    const cached = this.cache.get(taskId);
    if (cached) return structuredClone(cached);
    const queue = this.oid;
    if (!this.consumed.has(queue)) await this.drain(queue);
    const m = this.cache.get(taskId);
    return m && structuredClone(m);
  }

  async wait(taskId: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<ResultMeta> {
    const ready = this.readyMeta(taskId);
    if (ready) return ready;
    await this.consume(this.oid);
    const now = this.readyMeta(taskId);
    if (now) return now;
    return new Promise<ResultMeta>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const set = this.waiters.get(taskId) ?? new Set();
      this.waiters.set(taskId, set);
      const done = (): void => {
        set.delete(waiter);
        if (set.size === 0) this.waiters.delete(taskId);
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const waiter = {
        resolve: (meta: ResultMeta) => {
          done();
          resolve(structuredClone(meta));
        },
        reject: (error: unknown) => {
          done();
          reject(error);
        },
      };
      const onAbort = (): void => waiter.reject(options.signal?.reason);
      set.add(waiter);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(options.timeoutMs)) {
        timer = setTimeout(() => waiter.reject(new TimeoutError(`result of ${taskId} not ready after ${options.timeoutMs} ms`)), options.timeoutMs);
      }
    });
  }

  /** Drop the received state (the message is gone already). */
  async forget(taskId: string): Promise<void> {
    this.cache.delete(taskId);
  }


  private readyMeta(taskId: string): ResultMeta | undefined {
    const m = this.cache.get(taskId);
    return m && READY_STATES.has(m.status) ? structuredClone(m) : undefined;
  }

  /** Apply a state: a stored SUCCESS is never replaced (Celery's rule); ready states wake waiters. */
  private apply(taskId: string, meta: ResultMeta): void {
    const current = this.cache.get(taskId);
    if (current?.status === 'SUCCESS') return;
    this.cache.delete(taskId);
    this.cache.set(taskId, meta);
    if (this.cache.size > CACHE_MAX) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    if (READY_STATES.has(meta.status)) for (const w of [...(this.waiters.get(taskId) ?? [])]) w.resolve(meta);
  }

  private onReply(msg: Message): void {
    const text = msg.content.toString('utf8');
    let body: Record<string, unknown>;
    try {
      body = parseJson(text, 'rpc result') as Record<string, unknown>;
      if (body === null || typeof body !== 'object' || typeof body.status !== 'string') throw new Error('not a result: no status');
    } catch (error) {
      this.log.warn({ err: error, preview: text.slice(0, 200) }, 'ignored a malformed message in the rpc reply queue');
      return;
    }
    const taskId = msg.properties.correlationId ?? (body.task_id as string | undefined);
    if (typeof taskId !== 'string') return;
    const echoes = this.echoes.get(taskId);
    const i = echoes?.indexOf(text) ?? -1;
    if (echoes && i >= 0) {
      echoes.splice(i, 1);
      if (echoes.length === 0) this.echoes.delete(taskId);
      return;
    }
    this.apply(taskId, {
      status: body.status as TaskState,
      result: body.result ?? null,
      traceback: (body.traceback as string | null | undefined) ?? null,
      children: (body.children as unknown[] | undefined) ?? [],
      date_done: (body.date_done as string | null | undefined) ?? null,
      task_id: taskId,
    });
  }

  /** Read everything waiting in a reply queue not consumed here (Celery's `get_task_meta` does the same with basic.get). */
  private async drain(queue: string): Promise<void> {
    try {
      await this.topology.withChannel(async (ch) => {
        for (;;) {
          const msg = await ch.get(queue, { noAck: true });
          if (msg === false) return;
          this.onReply(msg);
        }
      }, `reading reply queue ${queue}`);
    } catch (error) {
      // 404: nobody declared the queue yet, so nothing was sent to it.
      if (replyCode((error as Error).cause) !== 404) throw error;
    }
  }

  private async consume(queue: string): Promise<void> {
    if (this.consumed.has(queue)) return;
    this.consumed.add(queue);
    try {
      await this.consumeOn(await this.consumeChannel(), queue);
    } catch (error) {
      this.consumed.delete(queue);
      throw toTaskqError(error, `consuming reply queue ${queue}`);
    }
  }

  private async consumeOn(channel: Channel, queue: string): Promise<void> {
    await this.topology.declare(replyQueueSpec(queue, this.expiresMs));
    // Results are transient messages read once: no acks (as Celery's result consumer).
    await channel.consume(queue, (msg) => {
      if (msg) this.onReply(msg);
      else this.resubscribe(queue);
    }, { noAck: true });
  }

  private consumeChannel(): Promise<Channel> {
    this.channel ??= (async () => {
      const model = await this.connection.ready(10_000);
      const ch = await model.createChannel();
      ch.on('error', (error: Error) => this.log.warn({ err: error }, 'rpc reply channel closed by the broker'));
      ch.on('close', () => {
        this.channel = undefined;
        if (!this.closed && this.consumed.size > 0) void this.resume();
      });
      return ch;
    })().catch((error) => {
      this.channel = undefined;
      throw error;
    });
    return this.channel;
  }

  /** The broker cancelled a reply consumer (queue deleted, e.g. expired): declare and consume again. */
  private resubscribe(queue: string): void {
    this.topology.forget(queue);
    this.consumed.delete(queue);
    if (!this.closed) this.consume(queue).catch((error) => this.log.warn({ err: error, queue }, 'could not consume the reply queue again'));
  }

  /** After a channel or connection loss: consume every reply queue again (auto-delete queues are declared anew). */
  private async resume(): Promise<void> {
    if (this.resuming) return;
    this.resuming = true;
    let delay = 100;
    try {
      while (!this.closed) {
        try {
          const ch = await this.consumeChannel();
          for (const q of this.consumed) await this.consumeOn(ch, q);
          return;
        } catch (error) {
          this.log.warn({ err: error }, 'could not resume the rpc reply consumer; retrying');
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5000);
        }
      }
    } finally {
      this.resuming = false;
    }
  }
}

/** Create an rpc:// backend (call `connect()`). */
export function createRpcResultBackend(options: RpcResultBackendOptions): RpcResultBackend {
  return new RpcResultBackend(options);
}
