/**
 * Celery's Redis result backend (celery-protocol.md §4.1): the meta JSON at
 * `celery-task-meta-<id>`, written with SETEX + PUBLISH on the same name so
 * waiters wake without polling. One subscriber connection per backend
 * multiplexes every waiter.
 */
import { BrokerConnectionError, type ChordPart, type ChordPartOutcome, createLogger, type GroupMeta, type Logger, parseJson, READY_STATES, redactUrl, type ResultBackend, type ResultMeta, stringifyJson, TimeoutError, type WaitOptions } from '@taskq/core';
import type { Redis, RedisOptions } from 'ioredis';
import { RESULT_KEY_PREFIX } from './kombu-layout.js';
import * as chords from './redis-chord.js';
import { STORE_RESULTS_LUA } from './lua-scripts.js';
import { createClient, toBrokerError, waitReady, withDeadline } from './redis-connection.js';
import { parseRedisUrl } from './redis-url.js';
import { resolveTransportOptions } from './transport-options.js';
import { TurnBatcher } from './turn-batcher.js';

/** Options of {@link createRedisResultBackend}. */
export interface RedisResultBackendOptions {
  /** Backend URL (default `redis://127.0.0.1:6379/0`). */
  url?: string;
  /** Seconds a result lives (Celery's `result_expires`, default 86400); 0 = forever (plain SET). */
  resultExpires?: number;
  /** Milliseconds an operation waits for an unreachable Redis (default 10000). */
  connectionTimeoutMs?: number;
  /** Transport options; only `master_name` (for sentinel://) is used here. */
  transportOptions?: Record<string, unknown>;
  /** Extra ioredis options, merged over those from the URL. */
  redis?: RedisOptions;
  log?: Logger;
}

interface StoreCommand {
  taskqStoreResults(numKeys: number, ...keysAndArgs: string[]): Promise<number[]>;
}

/** A result waiting for the next store flush, and its caller. */
interface PendingStore {
  key: string;
  text: string;
}

/** Results per script call (bounds the time one call holds Redis). */
const STORE_BATCH = 500;

interface Waiter {
  resolve(meta: ResultMeta): void;
}

export class RedisResultBackend implements ResultBackend {
  readonly backend = 'redis';
  readonly displayUrl: string;
  private readonly client: Redis & StoreCommand;
  private readonly redisOptions: RedisOptions;
  private subscriber: Redis | undefined;
  private readonly waiters = new Map<string, Set<Waiter>>();
  /**
   * Per waited key, the SUBSCRIBE every waiter of it awaits before its GET
   * (so a result stored in between is published to a live subscription).
   * A failed one is dropped, so the next waiter or `ready` subscribes again.
   */
  private readonly subscriptions = new Map<string, Promise<void>>();
  private readonly ttl: number;
  private readonly timeoutMs: number;
  private readonly log: Logger;
  /** Stores of one event-loop turn, written in one script run (see store). */
  private readonly stores = new TurnBatcher<PendingStore>(STORE_BATCH, (batch) => this.writeStores(batch));

  constructor(options: RedisResultBackendOptions = {}) {
    const url = options.url ?? 'redis://127.0.0.1:6379/0';
    const parsed = parseRedisUrl(url);
    this.displayUrl = redactUrl(url);
    this.redisOptions = { ...parsed.redis, ...options.redis };
    const transport = resolveTransportOptions(options.transportOptions, parsed.query);
    if (this.redisOptions.sentinels && transport.masterName) this.redisOptions.name = transport.masterName;
    this.ttl = Math.ceil(options.resultExpires ?? 86_400);
    this.timeoutMs = options.connectionTimeoutMs ?? 10_000;
    this.log = (options.log ?? createLogger()).child({ backend: 'redis' });
    this.client = createClient(this.redisOptions, { enableOfflineQueue: false, maxRetriesPerRequest: null, enableAutoPipelining: false }, this.log, 'result-backend') as Redis & StoreCommand;
    this.client.defineCommand('taskqStoreResults', { lua: STORE_RESULTS_LUA });
    // A read that failed while the connection was down is done again now (on every
    // ready, the first included: a waiter may have started before the first connect).
    this.client.on('ready', () => this.recheckAll());
  }

  async connect(): Promise<void> {
    try {
      await waitReady(this.client, this.timeoutMs, `connecting to ${this.displayUrl}`);
    } catch (error) {
      this.client.disconnect();
      throw toBrokerError(error, `connect to ${this.displayUrl}`);
    }
  }

  async close(): Promise<void> {
    if (this.stores.size > 0) await this.stores.flush();
    for (const [id, set] of this.waiters) if (set.size === 0) this.waiters.delete(id);
    this.subscriptions.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
    if (this.client.status === 'ready') await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }

  /** The Redis key of a task's result (Celery's name, no prefix). */
  static key(taskId: string): string {
    return RESULT_KEY_PREFIX + taskId;
  }

  /**
   * Store a result (unless a SUCCESS is already stored) and publish it.
   * Every store of one event-loop turn goes to Redis in one script call.
   */
  store(taskId: string, meta: ResultMeta): Promise<void> {
    let text: string;
    try {
      text = stringifyJson(meta, 'task result');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.stores.add({ key: RedisResultBackend.key(taskId), text });
  }

  private async writeStores(batch: PendingStore[]): Promise<void> {
    const args: string[] = [];
    for (const p of batch) args.push(p.key);
    args.push(String(this.ttl));
    for (const p of batch) args.push(p.text);
    const what = batch.length === 1 ? `store result of ${batch[0]!.key.slice(RESULT_KEY_PREFIX.length)}` : `store ${batch.length} results`;
    await withDeadline(this.client, this.timeoutMs, what, () => this.client.taskqStoreResults(batch.length, ...args));
  }

  async get(taskId: string): Promise<ResultMeta | undefined> {
    const text = await withDeadline(this.client, this.timeoutMs, `read result of ${taskId}`, () => this.client.get(RedisResultBackend.key(taskId)));
    return text === null ? undefined : (parseJson(text, 'result meta') as ResultMeta);
  }

  async forget(taskId: string): Promise<void> {
    await withDeadline(this.client, this.timeoutMs, `forget result of ${taskId}`, () => this.client.del(RedisResultBackend.key(taskId)));
  }

  /** Canvas: groups and chord counters as Celery's Redis backend keeps them (see redis-chord.ts). */
  saveGroup(groupId: string, meta: GroupMeta): Promise<void> {
    return withDeadline(this.client, this.timeoutMs, `save group ${groupId}`, () => chords.saveGroup(this.client, this.ttl, groupId, meta));
  }

  restoreGroup(groupId: string): Promise<GroupMeta | undefined> {
    return withDeadline(this.client, this.timeoutMs, `restore group ${groupId}`, () => chords.restoreGroup(this.client, groupId));
  }

  deleteGroup(groupId: string): Promise<void> {
    return withDeadline(this.client, this.timeoutMs, `delete group ${groupId}`, () => chords.deleteGroup(this.client, groupId));
  }

  setChordSize(groupId: string, size: number): Promise<void> {
    return withDeadline(this.client, this.timeoutMs, `set chord size of ${groupId}`, () => chords.setChordSize(this.client, this.ttl, groupId, size));
  }

  onChordPartReturn(part: ChordPart): Promise<ChordPartOutcome> {
    return withDeadline(this.client, this.timeoutMs, `count chord part of ${part.groupId}`, () => chords.chordPartReturn(this.client, this.ttl, part));
  }

  /**
   * Subscribe to the key's channel first, then GET, so a result stored
   * between the two is not missed (Celery's order).
   */
  wait(taskId: string, options: WaitOptions): Promise<ResultMeta> {
    const key = RedisResultBackend.key(taskId);
    let settle!: { resolve(m: ResultMeta): void; reject(e: unknown): void };
    const result = new Promise<ResultMeta>((resolve, reject) => {
      settle = { resolve, reject };
    });
    let timer: NodeJS.Timeout | undefined;
    const waiter: Waiter = { resolve: (m) => finish(() => settle.resolve(m)) };
    const onAbort = (): void => finish(() => settle.reject(options.signal?.reason));
    const finish = (action: () => void): void => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      this.removeWaiter(key, waiter);
      action();
    };
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (Number.isFinite(options.timeoutMs)) {
      timer = setTimeout(() => finish(() => settle.reject(new TimeoutError(`result of ${taskId} not ready after ${options.timeoutMs} ms — the task may still be queued or running`))), options.timeoutMs);
    }
    void (async () => {
      try {
        this.addWaiter(key, waiter);
        await this.subscribed(key);
        const now = await this.get(taskId);
        if (now && READY_STATES.has(now.status)) waiter.resolve(now);
      } catch (error) {
        // A lost connection is not the end of the wait: the waiter stays registered,
        // and on the next `ready` its key is subscribed and read again (resubscribeAll,
        // recheckAll); a finite wait ends with TimeoutError meanwhile. Anything else is a real failure.
        if (!(error instanceof BrokerConnectionError)) finish(() => settle.reject(error));
        else this.log.debug({ err: error, taskId }, 'result subscribe or read failed; will try again after reconnect');
      }
    })();
    return result;
  }

  private sub(): Redis {
    if (this.subscriber) return this.subscriber;
    const sub = createClient(this.redisOptions, { maxRetriesPerRequest: null }, this.log, 'result-subscriber');
    sub.on('message', (channel: string, text: string) => this.onMessage(channel, text));
    // Subscribes that failed while Redis was unreachable are made now, and results
    // published while the subscriber was away reached nobody: read them (every ready, the first included).
    sub.on('ready', () => this.resubscribeAll(sub));
    this.subscriber = sub;
    return sub;
  }

  /**
   * The subscriber is (again) ready: SUBSCRIBE every waited key in one command
   * (idempotent for keys ioredis already resubscribed), then read them.
   */
  private resubscribeAll(sub: Redis): void {
    const keys = [...this.waiters.keys()];
    if (keys.length === 0) return;
    const done = this.trackSubscription(keys, async () => {
      try {
        await sub.subscribe(...keys);
      } catch (error) {
        throw toBrokerError(error, 'subscribe to results');
      }
    });
    done.then(() => this.recheckAll(keys)).catch((error) => this.log.debug({ err: error }, 'result resubscribe failed; will try again after reconnect'));
  }

  /** Read waited-for keys again, once subscribed (after a reconnect, a publish may have been missed). */
  private recheckAll(keys: readonly string[] = [...this.waiters.keys()]): void {
    for (const key of keys) {
      if (!this.waiters.has(key)) continue;
      this.subscribed(key)
        .then(() => withDeadline(this.client, this.timeoutMs, 'recheck results', () => this.client.get(key)))
        .then((text) => {
          if (text !== null) this.onMessage(key, text);
        })
        .catch((error) => this.log.debug({ err: error, key }, 'result recheck failed; will try again after reconnect'));
    }
  }

  /** The key's subscription, started if there is none (or the last one failed). */
  private subscribed(key: string): Promise<void> {
    const current = this.subscriptions.get(key);
    if (current) return current;
    return this.trackSubscription([key], async () => {
      const sub = this.sub();
      await waitReady(sub, this.timeoutMs, 'subscribe to results');
      try {
        await sub.subscribe(key);
      } catch (error) {
        throw toBrokerError(error, 'subscribe to results');
      }
    });
  }

  /** Record `run` as the subscription of `keys`; on failure forget it, so the next attempt subscribes again. */
  private trackSubscription(keys: readonly string[], run: () => Promise<void>): Promise<void> {
    const p = run();
    for (const key of keys) this.subscriptions.set(key, p);
    p.catch(() => {
      for (const key of keys) if (this.subscriptions.get(key) === p) this.subscriptions.delete(key);
    });
    return p;
  }

  private onMessage(channel: string, text: string): void {
    const set = this.waiters.get(channel);
    if (!set || set.size === 0) return;
    let meta: ResultMeta;
    try {
      meta = parseJson(text, 'result meta') as ResultMeta;
    } catch (error) {
      this.log.warn({ err: error, channel }, 'unreadable result published; ignored');
      return;
    }
    if (!READY_STATES.has(meta.status)) return;
    for (const w of [...set]) w.resolve(meta);
  }

  private addWaiter(key: string, waiter: Waiter): void {
    let set = this.waiters.get(key);
    if (!set) {
      set = new Set();
      this.waiters.set(key, set);
    }
    set.add(waiter);
  }

  private removeWaiter(key: string, waiter: Waiter): void {
    const set = this.waiters.get(key);
    if (!set) return;
    set.delete(waiter);
    if (set.size === 0) {
      this.waiters.delete(key);
      this.subscriptions.delete(key);
      if (this.subscriber?.status === 'ready') void this.subscriber.unsubscribe(key).catch(() => {});
    }
  }
}

/** A Redis result backend from options. */
export function createRedisResultBackend(options: RedisResultBackendOptions = {}): RedisResultBackend {
  return new RedisResultBackend(options);
}
