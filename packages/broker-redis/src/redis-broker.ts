/**
 * The Redis transport: kombu's layout (celery-protocol.md §2), so Python
 * Celery and taskq share queues, with delivery made atomic by Lua.
 * Design notes (fetch, wake-ups, visibility timeout, heartbeats) are in the
 * package README.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  type Broker,
  type BrokerCapabilities,
  BrokerConnectionError,
  type ConsumeOptions,
  type Consumer,
  createLogger,
  type Delivery,
  type Logger,
  parseJson,
  type PublishRoute,
  redactUrl,
  type TaskMessage,
} from '@taskq/core';
import type { Redis, RedisOptions } from 'ioredis';
import { buildEnvelope, markEnvelopeRedelivered, markRedelivered } from './envelope.js';
import { KombuLayout, SEP } from './kombu-layout.js';
import { Deferred } from './deferred.js';
import { TurnBatcher } from './turn-batcher.js';
import { ACK_LUA, DEAD_LETTER_LUA, FETCH_LUA, RELEASE_MUTEX_LUA, REQUEUE_LUA, RESTORE_LUA } from './lua-scripts.js';
import { createClient, toBrokerError, waitReady, withDeadline } from './redis-connection.js';
import { RedisConsumer } from './redis-consumer.js';
import { RedisFanout } from './redis-fanout.js';
import { parseRedisUrl } from './redis-url.js';
import { type RedisTransportOptions, type ResolvedTransportOptions, resolveTransportOptions } from './transport-options.js';

/** Options of {@link createRedisBroker}. */
export interface RedisBrokerOptions {
  /** Broker URL (default `redis://127.0.0.1:6379/0`); see the README for the accepted forms. */
  url?: string;
  /** Celery's `broker_transport_options` (snake_case); URL query options override them. */
  transportOptions?: RedisTransportOptions;
  /** Milliseconds a publish waits for an unreachable Redis before BrokerConnectionError (default 10000). */
  connectionTimeoutMs?: number;
  /** Extra ioredis options (e.g. `tls`), merged over those from the URL. */
  redis?: RedisOptions;
  log?: Logger;
}

/** One taken message as the fetch script returns it. */
export type FetchedEntry =
  | { kind: 'message'; queue: string; deliveryTag: string; envelope: string }
  | { kind: 'invalid'; queue: string; reason: string; preview: string };

/** An entry of the dead-letter list. */
export interface DeadLetter {
  queue: string;
  reason: string;
  /** Unix seconds. */
  dead_lettered_at: number;
  /** The envelope exactly as it was in the queue. */
  message: string;
}

interface ScriptCommands {
  taskqFetch(numKeys: number, ...keysAndArgs: string[]): Promise<Array<string | number>>;
  taskqAck(unackedIndex: string, unacked: string, ...tags: string[]): Promise<number>;
  taskqRequeue(unacked: string, index: string, bandKey: string, tag: string, envelope: string, channel: string): Promise<number>;
  taskqRestore(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
  taskqDeadLetter(unacked: string, index: string, dead: string, tag: string, record: string): Promise<number>;
  taskqReleaseMutex(mutex: string, token: string): Promise<number>;
}

type ScriptedRedis = Redis & ScriptCommands;

const ACK_CHUNK = 500;

/**
 * The acks asked for between two ack writes share one promise (not one per
 * ack: a worker acks every task): it resolves once the last of them is
 * written, and rejects with the first error that loses one of them.
 */
class AckGroup extends Deferred {
  remaining = 0;

  /** One of its acks was written. */
  done(): void {
    if (--this.remaining === 0) this.resolve();
  }
}
/** Envelopes per LPUSH of publishMany (bounded so one command stays a few MB at most). */
const PUBLISH_CHUNK = 1000;
const RESTORE_CHUNK = 100;
/** Publishes per flush (one MULTI). */
const PUBLISH_BATCH = 5000;

/** An envelope waiting for the next publish flush, and its caller. */
interface PendingPublish {
  queue: string;
  band: string;
  envelope: string;
}

export class RedisBroker implements Broker {
  readonly transport = 'redis';
  readonly displayUrl: string;
  readonly capabilities: BrokerCapabilities = {
    priority: true,
    priorityOrder: 'lowest-first',
    fanout: true,
    delayedDelivery: false,
    nativeAck: false,
  };
  /** Key names in use (with `global_keyprefix` and `priority_steps` applied). */
  readonly layout: KombuLayout;
  readonly options: ResolvedTransportOptions;
  readonly log: Logger;
  /** Redis database number of the connection. */
  readonly db: number;
  private readonly connectionTimeoutMs: number;
  private readonly client: ScriptedRedis;
  private readonly redisOptions: RedisOptions;
  private subscriber: Redis | undefined;
  private readonly consumers = new Set<RedisConsumer>();
  private readonly wakeSubscriptions = new Map<string, Set<RedisConsumer>>();
  /** Acks not written yet, by delivery tag, in the order asked; each with the group its caller waits on. */
  private readonly pendingAcks = new Map<string, AckGroup>();
  /** The group new acks join; a new one starts once a write takes acks of this one. */
  private openAckGroup: AckGroup | undefined;
  private ackFlushScheduled = false;
  /** Publishes of one event-loop turn, written as one MULTI (see publishEnvelope). */
  private readonly publishes = new TurnBatcher<PendingPublish>(PUBLISH_BATCH, (batch) =>
    this.writePublishes(batch, batch.length === 1 ? `publish to ${batch[0]!.queue}` : `publish ${batch.length} messages`),
  );
  private ackFlushing = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private restoreTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private fanoutChannel: RedisFanout | undefined;

  constructor(options: RedisBrokerOptions = {}) {
    const url = options.url ?? 'redis://127.0.0.1:6379/0';
    const parsed = parseRedisUrl(url);
    this.displayUrl = redactUrl(url);
    this.db = parsed.db;
    this.options = resolveTransportOptions(options.transportOptions as Record<string, unknown> | undefined, parsed.query);
    this.layout = new KombuLayout(this.options.keyPrefix, this.options.prioritySteps);
    this.connectionTimeoutMs = options.connectionTimeoutMs ?? 10_000;
    this.log = (options.log ?? createLogger()).child({ transport: 'redis' });
    this.redisOptions = { ...parsed.redis, ...options.redis };
    if (this.redisOptions.sentinels) {
      if (!this.options.masterName) throw new BrokerConnectionError('sentinel:// needs the master name: set the transport option master_name (brokerTransportOptions: { master_name: "mymaster" })');
      this.redisOptions.name = this.options.masterName;
      if (this.options.sentinelOptions) Object.assign(this.redisOptions, { sentinelPassword: this.options.sentinelOptions.password });
    }
    // No offline queue: a command is sent only once the connection is ready
    // (we wait for that with a deadline), so a publish that timed out is not
    // silently sent later. In-flight commands wait for the reconnect (no retry cap).
    this.client = createClient(this.redisOptions, { enableOfflineQueue: false, maxRetriesPerRequest: null, enableAutoPipelining: false }, this.log, 'broker') as ScriptedRedis;
    this.client.defineCommand('taskqFetch', { lua: FETCH_LUA });
    this.client.defineCommand('taskqAck', { numberOfKeys: 2, lua: ACK_LUA });
    this.client.defineCommand('taskqRequeue', { numberOfKeys: 3, lua: REQUEUE_LUA });
    this.client.defineCommand('taskqRestore', { lua: RESTORE_LUA });
    this.client.defineCommand('taskqDeadLetter', { numberOfKeys: 3, lua: DEAD_LETTER_LUA });
    this.client.defineCommand('taskqReleaseMutex', { numberOfKeys: 1, lua: RELEASE_MUTEX_LUA });
    this.client.on('ready', () => {
      for (const c of this.consumers) c.kick();
      if (this.pendingAcks.size > 0) this.scheduleAckFlush();
    });
  }

  async connect(): Promise<void> {
    this.closed = false;
    try {
      await waitReady(this.client, this.connectionTimeoutMs, `connecting to ${this.displayUrl}`);
    } catch (error) {
      // Do not leave a reconnecting client behind when the caller gives up on this broker.
      this.client.disconnect();
      throw toBrokerError(error, `connect to ${this.displayUrl}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    if (this.publishes.size > 0) await this.publishes.flush();
    if (this.pendingAcks.size > 0 && this.client.status === 'ready') await this.flushAcks().catch(() => {});
    this.stopTimers();
    await this.fanoutChannel?.close();
    if (this.subscriber) this.subscriber.disconnect();
    this.subscriber = undefined;
    if (this.client.status === 'ready') await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }

  /** Broadcast exchanges over PUB/SUB and binding sets, as kombu (remote control, events); see redis-fanout.ts. */
  fanout(): RedisFanout {
    this.fanoutChannel ??= new RedisFanout({
      client: this.client,
      redisOptions: this.redisOptions,
      layout: this.layout,
      db: this.db,
      fanoutPrefix: this.options.fanoutPrefix,
      fanoutPatterns: this.options.fanoutPatterns,
      connectionTimeoutMs: this.connectionTimeoutMs,
      log: this.log,
    });
    return this.fanoutChannel;
  }

  /**
   * Drop every connection at once without giving anything back — what a
   * SIGKILL does. For crash tests: deliveries stay in unacked until another
   * consumer restores them after the visibility timeout.
   */
  destroy(): void {
    this.closed = true;
    this.stopTimers();
    void this.fanoutChannel?.close();
    this.subscriber?.disconnect();
    this.client.disconnect();
  }

  /** Not an async function (one promise per message fewer): an envelope that cannot be built rejects. */
  publish(message: TaskMessage, route: PublishRoute): Promise<void> {
    const queue = route.routingKey ?? route.queue;
    let envelope: string;
    try {
      // Published to the anonymous exchange, like Celery: straight to the queue's list.
      envelope = buildEnvelope(message, queue, '', this.options.compactHeaders).envelope;
    } catch (error) {
      return Promise.reject(error);
    }
    return this.publishEnvelope(queue, envelope, message.properties.priority);
  }

  /**
   * Publish many messages in one MULTI: per queue band one SADD of the
   * binding, LPUSHes of up to {@link PUBLISH_CHUNK} envelopes each (in order,
   * so the consumer takes them first-in first-out) and one wake-up.
   */
  async publishMany(items: ReadonlyArray<{ message: TaskMessage; route: PublishRoute }>): Promise<void> {
    const l = this.layout;
    // Build every envelope first: an EncodeError sends nothing.
    const entries: PendingPublish[] = [];
    for (const { message, route } of items) {
      const queue = route.routingKey ?? route.queue;
      entries.push({ queue, band: l.queueKeyFor(queue, message.properties.priority), envelope: buildEnvelope(message, queue, '', this.options.compactHeaders).envelope });
    }
    await this.writePublishes(entries, `publish ${items.length} messages`);
  }

  /**
   * LPUSH an envelope as is, to the band of `priority` — for tools and for
   * tests of malformed input (nothing is validated).
   */
  async publishRaw(queue: string, envelope: string, priority: unknown = 0): Promise<void> {
    await this.publishEnvelope(queue, envelope, priority);
  }

  /**
   * Queue one envelope for the next publish flush: every publish of one
   * event-loop turn goes out as one MULTI (one LPUSH per band, one SADD and
   * one wake-up per queue) instead of a script run, a wake-up PUBLISH and a
   * deadline timer per message — on a busy producer that is most of Redis'
   * work per task. Each caller still learns whether its own message was written.
   */
  private publishEnvelope(queue: string, envelope: string, priority: unknown): Promise<void> {
    return this.publishes.add({ queue, band: this.layout.queueKeyFor(queue, priority), envelope });
  }

  /**
   * Write envelopes all or nothing (so a retry after a lost connection cannot
   * duplicate part of them): per band, in the order given,
   * LPUSH chunks of up to {@link PUBLISH_CHUNK}; per queue one SADD of kombu's
   * binding and one wake-up.
   */
  private async writePublishes(entries: readonly PendingPublish[], what: string): Promise<void> {
    const l = this.layout;
    const byBand = new Map<string, string[]>();
    const queues = new Set<string>();
    for (const e of entries) {
      let list = byBand.get(e.band);
      if (!list) {
        list = [];
        byBand.set(e.band, list);
      }
      list.push(e.envelope);
      queues.add(e.queue);
    }
    // One LPUSH is atomic by itself (and SADD and the wake-up are idempotent):
    // MULTI/EXEC only when the envelopes need more than one.
    const pushes = [...byBand.values()].reduce((n, list) => n + Math.ceil(list.length / PUBLISH_CHUNK), 0);
    await withDeadline(this.client, this.connectionTimeoutMs, what, async () => {
      const m = pushes > 1 ? this.client.multi() : this.client.pipeline();
      for (const q of queues) m.sadd(l.bindingKey(q), KombuLayout.bindingMember(q, q));
      for (const [band, envelopes] of byBand) {
        for (let i = 0; i < envelopes.length; i += PUBLISH_CHUNK) m.lpush(band, ...envelopes.slice(i, i + PUBLISH_CHUNK));
      }
      for (const q of queues) m.publish(l.wakeChannel(q), '');
      throwFirstError(await m.exec());
    });
  }

  async consume(queues: readonly string[], onDelivery: (delivery: Delivery) => void, options: ConsumeOptions): Promise<Consumer> {
    if (this.closed) throw new BrokerConnectionError('this Redis broker was closed; create a new one to consume again');
    if (queues.length === 0) throw new RangeError('consume() needs at least one queue');
    await this.connect();
    const consumer = new RedisConsumer(this, [...queues], onDelivery, options);
    this.consumers.add(consumer);
    await this.subscribeWake(consumer);
    this.startTimers();
    // Like kombu, a consumer that starts restores what dead consumers left behind.
    await this.restoreVisibilityTimeouts().catch((error) => this.log.warn({ err: error }, 'restoring timed-out deliveries failed; will retry'));
    consumer.kick();
    return consumer;
  }

  async purge(queue: string): Promise<number> {
    const keys = this.layout.bandKeys(queue);
    const res = await withDeadline(this.client, this.connectionTimeoutMs, `purge ${queue}`, () => {
      const m = this.client.multi();
      for (const k of keys) m.llen(k);
      m.del(...keys);
      return m.exec();
    });
    return sumCounts(res, keys.length);
  }

  async queueSize(queue: string): Promise<number> {
    const keys = this.layout.bandKeys(queue);
    const res = await withDeadline(this.client, this.connectionTimeoutMs, `size of ${queue}`, () => {
      const p = this.client.pipeline();
      for (const k of keys) p.llen(k);
      return p.exec();
    });
    return sumCounts(res, keys.length);
  }

  /** The dead-letter list, newest first. */
  async deadLetters(limit = 100): Promise<DeadLetter[]> {
    const raw = await withDeadline(this.client, this.connectionTimeoutMs, 'read dead letters', () => this.client.lrange(this.layout.deadLetter, 0, limit - 1));
    return raw.map((r) => JSON.parse(r) as DeadLetter);
  }

  // ---- used by RedisConsumer / RedisDelivery -------------------------------------------------

  /** Take up to `max` messages from `queues` (in this order within each band), recording them as unacked. */
  async fetch(queues: readonly string[], max: number, stillWanted: () => boolean = () => true): Promise<FetchedEntry[]> {
    const l = this.layout;
    const keys = [l.unacked, l.unackedIndex, l.deadLetter];
    for (const step of l.prioritySteps) for (const q of queues) keys.push(l.bandKey(q, step));
    // Connected: the script call is written now, in the caller's turn (the consumer starts the
    // next fetch before it hands out a batch, and that round trip should overlap the work).
    if (this.client.status !== 'ready') {
      await waitReady(this.client, Number.POSITIVE_INFINITY, 'fetch');
      // The consumer may have stopped while we waited for a reconnect: take nothing then.
      if (!stillWanted()) return [];
    }
    // Pending acks ride along (one write and one script run fewer), unless a flush is already writing them.
    const acks = this.ackFlushing ? [] : this.ackBatch();
    if (acks.length > 0) this.ackFlushing = true;
    let flat: Array<string | number>;
    try {
      flat = await this.client.taskqFetch(keys.length, ...keys, String(max), nowSeconds(), String(queues.length), ...queues, ...acks.map(([tag]) => tag));
      this.settleAcks(acks, undefined);
    } finally {
      // When the fetch failed its acks stay pending and go out again with the next flush (acks
      // are idempotent): the script may have applied them before its fetch part failed, or not at all.
      if (acks.length > 0) {
        this.ackFlushing = false;
        if (this.pendingAcks.size > 0) this.scheduleAckFlush();
      }
    }
    const out: FetchedEntry[] = [];
    // Triples: queue position (negative: dead-lettered), then tag and envelope, or reason and preview.
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const q = flat[i] as number;
      if (q > 0) out.push({ kind: 'message', queue: queues[q - 1]!, deliveryTag: flat[i + 1] as string, envelope: flat[i + 2] as string });
      else out.push({ kind: 'invalid', queue: queues[-q - 1]!, reason: flat[i + 1] as string, preview: flat[i + 2] as string });
    }
    return out;
  }

  /** Acknowledge: batched with every other ack of this tick into one script run (ZREM unacked_index + HDEL unacked). */
  ack(deliveryTag: string): Promise<void> {
    const pending = this.pendingAcks.get(deliveryTag);
    if (pending) return pending.promise;
    let group = this.openAckGroup;
    if (!group) {
      group = new AckGroup();
      this.openAckGroup = group;
    }
    group.remaining++;
    this.pendingAcks.set(deliveryTag, group);
    this.scheduleAckFlush();
    return group.promise;
  }

  private scheduleAckFlush(): void {
    if (this.ackFlushScheduled || this.ackFlushing) return;
    this.ackFlushScheduled = true;
    setImmediate(() => {
      this.ackFlushScheduled = false;
      void this.flushAcks().catch(() => {});
    });
  }

  private async flushAcks(): Promise<void> {
    if (this.ackFlushing) return;
    this.ackFlushing = true;
    try {
      while (this.pendingAcks.size > 0) {
        const batch = this.ackBatch();
        try {
          await waitReady(this.client, Number.POSITIVE_INFINITY, 'ack');
          await this.client.taskqAck(this.layout.unackedIndex, this.layout.unacked, ...batch.map(([tag]) => tag));
        } catch (error) {
          if (!this.settleAcks(batch, error)) return;
          continue;
        }
        this.settleAcks(batch, undefined);
      }
    } finally {
      this.ackFlushing = false;
    }
  }

  /** Up to {@link ACK_CHUNK} pending acks, oldest first. Acks asked for from now on join a new group. */
  private ackBatch(): Array<[string, AckGroup]> {
    const batch: Array<[string, AckGroup]> = [];
    for (const entry of this.pendingAcks) {
      batch.push(entry);
      if (batch.length >= ACK_CHUNK) break;
    }
    this.openAckGroup = undefined;
    return batch;
  }

  /**
   * Settle a batch of pending acks after the write that carried them (an ack
   * flush or a fetch): resolved on success, rejected on a Redis error. After a
   * lost connection they stay pending (and heartbeated), to be written again
   * on 'ready' — acks are idempotent. Returns false in that case.
   */
  private settleAcks(batch: ReadonlyArray<[string, AckGroup]>, error: unknown): boolean {
    if (batch.length === 0) return true;
    if (error !== undefined) {
      const e = toBrokerError(error, 'ack');
      if (e instanceof BrokerConnectionError) {
        this.log.warn({ err: e, count: batch.length }, 'acks not written yet; retrying after reconnect');
        return false;
      }
      for (const [tag, group] of batch) {
        this.pendingAcks.delete(tag);
        group.reject(e);
      }
      return true;
    }
    for (const [tag, group] of batch) {
      this.pendingAcks.delete(tag);
      group.done();
    }
    return true;
  }

  /** Put a delivery back at the consumer end of its queue, marked redelivered, if it is still unacked. */
  async requeue(deliveryTag: string, queue: string, envelope: string): Promise<boolean> {
    const marked = markRedelivered(envelope);
    const l = this.layout;
    const n = await withDeadline(this.client, this.connectionTimeoutMs, `requeue to ${queue}`, () =>
      this.client.taskqRequeue(l.unacked, l.unackedIndex, l.queueKeyFor(queue, marked.priority), deliveryTag, marked.envelope, l.wakeChannel(queue)),
    );
    return n === 1;
  }

  /** Move a delivery from unacked to the dead-letter list with the reason. */
  async deadLetter(deliveryTag: string, queue: string, envelope: string, reason: string): Promise<boolean> {
    const l = this.layout;
    const record = JSON.stringify({ queue, reason, dead_lettered_at: Date.now() / 1000, message: envelope });
    const n = await withDeadline(this.client, this.connectionTimeoutMs, `dead-letter from ${queue}`, () =>
      this.client.taskqDeadLetter(l.unacked, l.unackedIndex, l.deadLetter, deliveryTag, record),
    );
    return n === 1;
  }

  /**
   * Return deliveries unacknowledged for longer than `visibility_timeout` to
   * their queues, marked redelivered (kombu's restore), under kombu's
   * `unacked_mutex` so Celery workers and taskq never restore the same entry
   * twice. Deliveries of live taskq consumers are not affected: their index
   * score is refreshed by a heartbeat. Returns how many were restored.
   */
  async restoreVisibilityTimeouts(): Promise<number> {
    const l = this.layout;
    const token = randomUUID();
    const got = await this.client.set(l.unackedMutex, token, 'PX', this.options.unackedMutexExpireMs, 'NX');
    if (got !== 'OK') return 0;
    let restored = 0;
    try {
      const cutoff = Date.now() / 1000 - this.options.visibilityTimeoutMs / 1000;
      const tags = await this.client.zrevrangebyscore(l.unackedIndex, cutoff, 0);
      for (let i = 0; i < tags.length; i += RESTORE_CHUNK) {
        const chunk = tags.slice(i, i + RESTORE_CHUNK);
        const values = await this.client.hmgetBuffer(l.unacked, ...chunk);
        for (let j = 0; j < chunk.length; j++) {
          if (await this.restoreOne(chunk[j]!, values[j] ?? null, cutoff)) restored++;
        }
      }
    } finally {
      await this.client.taskqReleaseMutex(l.unackedMutex, token).catch(() => {});
    }
    if (restored > 0) this.log.info({ restored }, `restored ${restored} unacknowledged message(s) past the visibility timeout`);
    return restored;
  }

  private async restoreOne(tag: string, value: Buffer | null, cutoff: number): Promise<boolean> {
    const l = this.layout;
    if (value === null) {
      // An index entry without its message (kombu removes those too).
      await this.client.zrem(l.unackedIndex, tag);
      return false;
    }
    const text = value.toString('utf8');
    let parsed: unknown;
    try {
      parsed = parseJson(text, 'unacked entry');
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || parsed[0] === null || typeof parsed[0] !== 'object') {
      return (await this.client.taskqDeadLetter(l.unacked, l.unackedIndex, l.deadLetter, tag, JSON.stringify({ queue: '', reason: 'unacked entry is not [envelope, exchange, routing_key]', dead_lettered_at: Date.now() / 1000, message: text }))) === 1;
    }
    const [env, exchange, routingKey] = parsed as [Record<string, unknown>, unknown, unknown];
    const rk = typeof routingKey === 'string' ? routingKey : '';
    const queues = await this.lookupQueues(typeof exchange === 'string' ? exchange : '', rk);
    const { envelope, priority } = markEnvelopeRedelivered(env);
    const sha = createHash('sha1').update(value).digest('hex');
    const keys = [l.unacked, l.unackedIndex, ...queues.map((q) => l.queueKeyFor(q, priority))];
    const args = [tag, sha, String(cutoff), envelope, ...queues.map((q) => l.wakeChannel(q))];
    return (await this.client.taskqRestore(keys.length, ...keys, ...args)) === 1;
  }

  /** Queues bound to exchange/routing key, as kombu's restore looks them up ('' → the queue named by the routing key). */
  private async lookupQueues(exchange: string, routingKey: string): Promise<string[]> {
    if (exchange === '') return [routingKey];
    const members = await this.client.smembers(this.layout.bindingKey(exchange));
    const queues = members
      .map((m) => m.split(SEP))
      .filter((parts) => parts.length === 3 && (parts[0] === routingKey || parts[0] === ''))
      .map((parts) => parts[2]!);
    return queues.length > 0 ? [...new Set(queues)] : [routingKey];
  }

  // ---- wake-ups, heartbeat, periodic restore ---------------------------------------------

  private async subscribeWake(consumer: RedisConsumer): Promise<void> {
    if (!this.subscriber) {
      const sub = createClient(this.redisOptions, { maxRetriesPerRequest: null }, this.log, 'broker-wake');
      sub.on('message', (channel: string) => {
        const set = this.wakeSubscriptions.get(channel);
        if (set) for (const c of set) c.kick();
      });
      // After a reconnect, anything published meanwhile woke nobody: look again.
      sub.on('ready', () => {
        for (const c of this.consumers) c.kick();
      });
      this.subscriber = sub;
    }
    const fresh: string[] = [];
    for (const q of consumer.queues) {
      const channel = this.layout.wakeChannel(q);
      let set = this.wakeSubscriptions.get(channel);
      if (!set) {
        set = new Set();
        this.wakeSubscriptions.set(channel, set);
        fresh.push(channel);
      }
      set.add(consumer);
    }
    if (fresh.length > 0) {
      await waitReady(this.subscriber, this.connectionTimeoutMs, 'subscribe').catch(() => {});
      // Wake-ups are an optimisation (the consumer also polls), so a failure here is not fatal.
      await this.subscriber.subscribe(...fresh).catch((error) => this.log.warn({ err: error }, 'wake-up subscription failed; polling only'));
    }
  }

  /** Forget a consumer that stopped: no more wake-ups for it. */
  detach(consumer: RedisConsumer): void {
    const gone: string[] = [];
    for (const q of consumer.queues) {
      const channel = this.layout.wakeChannel(q);
      const set = this.wakeSubscriptions.get(channel);
      if (!set) continue;
      set.delete(consumer);
      if (set.size === 0) {
        this.wakeSubscriptions.delete(channel);
        gone.push(channel);
      }
    }
    if (gone.length > 0 && this.subscriber?.status === 'ready') void this.subscriber.unsubscribe(...gone).catch(() => {});
  }

  /** True while the command connection is up. */
  isReady(): boolean {
    return this.client.status === 'ready';
  }

  /** A consumer whose deliveries are all settled after close. */
  forget(consumer: RedisConsumer): void {
    this.consumers.delete(consumer);
  }

  private startTimers(): void {
    const vt = this.options.visibilityTimeoutMs;
    if (!this.heartbeatTimer) {
      this.heartbeatTimer = setInterval(() => void this.heartbeat(), Math.max(50, Math.min(vt / 4, 60_000)));
      this.heartbeatTimer.unref();
    }
    if (!this.restoreTimer) {
      this.restoreTimer = setInterval(() => {
        if (this.client.status !== 'ready') return;
        this.restoreVisibilityTimeouts().catch((error) => this.log.warn({ err: error }, 'restoring timed-out deliveries failed; will retry'));
      }, Math.max(100, Math.min(vt, 60_000)));
      this.restoreTimer.unref();
    }
  }

  private stopTimers(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.restoreTimer) clearInterval(this.restoreTimer);
    this.heartbeatTimer = undefined;
    this.restoreTimer = undefined;
  }

  /**
   * Refresh the unacked_index score of every delivery this process still
   * holds (ZADD XX: entries acked or restored meanwhile are not recreated), so
   * only the deliveries of a dead consumer ever age past the visibility
   * timeout — the fix for Celery's eta/countdown double execution.
   */
  async heartbeat(): Promise<void> {
    const tags = new Set<string>(this.pendingAcks.keys());
    for (const c of this.consumers) for (const t of c.heldTags()) tags.add(t);
    if (tags.size === 0 || this.client.status !== 'ready') return;
    const now = nowSeconds();
    const args: string[] = [];
    for (const t of tags) args.push(now, t);
    await this.client.zadd(this.layout.unackedIndex, 'XX', ...args).catch((error) => this.log.warn({ err: error }, 'unacked heartbeat failed; will retry'));
  }
}

function nowSeconds(): string {
  return (Date.now() / 1000).toFixed(6);
}

function throwFirstError(res: Array<[Error | null, unknown]> | null): void {
  if (!res) throw new BrokerConnectionError('Redis aborted the transaction; try again');
  const failed = res.find(([e]) => e)?.[0];
  if (failed) throw failed;
}

function sumCounts(res: Array<[Error | null, unknown]> | null, n: number): number {
  if (!res) throw new BrokerConnectionError('Redis aborted the transaction; try again');
  let total = 0;
  for (let i = 0; i < n; i++) {
    const [e, v] = res[i]!;
    if (e) throw toBrokerError(e, 'count messages');
    total += Number(v);
  }
  return total;
}

/** A Redis broker from options (`url`, transport options…); call `connect()` or just use it. */
export function createRedisBroker(options: RedisBrokerOptions = {}): RedisBroker {
  return new RedisBroker(options);
}
