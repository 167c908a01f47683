/**
 * A consumer on the Redis transport: fetches in batches up to its free
 * prefetch with the atomic fetch script, sleeps when the queues are empty
 * (woken by taskq producers' notifications, or by its poll timer for
 * messages from other producers), and hands out deliveries.
 */
import { type ConsumeOptions, type Consumer, DecodeError, type Delivery, type InvalidMessage, SerializationError, type TaskMessage } from '@taskq/core';
import { openEnvelope } from './envelope.js';
import type { FetchedEntry, RedisBroker } from './redis-broker.js';

/** Upper bound of one fetch (also the batch size when prefetch is 0 = unlimited). */
const MAX_BATCH = 100;

export class RedisConsumer implements Consumer {
  private prefetch: number;
  /** Free slots that make a release fetch again. */
  private readonly refillAt: number;
  private readonly onInvalid: ((i: InvalidMessage) => void) | undefined;
  private readonly held = new Map<string, RedisDelivery>();
  private stopped = false;
  private closed = false;
  /** A fetch script call is on its way (one at a time). */
  private fetching = false;
  /** Messages taken by a returned fetch and not yet handed out: they count against the prefetch. */
  private unopened = 0;
  /** Fetches not finished handing out their batch (awaited by stop). */
  private readonly active = new Set<Promise<void>>();
  private again = false;
  private rotation = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;

  constructor(
    readonly broker: RedisBroker,
    readonly queues: readonly string[],
    private readonly onDelivery: (d: Delivery) => void,
    options: ConsumeOptions,
  ) {
    this.prefetch = options.prefetch;
    this.refillAt = Math.max(1, Math.ceil(Math.min(MAX_BATCH, options.prefetch) / 2));
    this.onInvalid = options.onInvalid;
  }

  setPrefetch(prefetch: number): void {
    this.prefetch = prefetch;
    this.kick();
  }

  /** Delivery tags this consumer still holds (for the heartbeat). */
  heldTags(): IterableIterator<string> {
    return this.held.keys();
  }

  private free(): number {
    return this.prefetch > 0 ? Math.min(MAX_BATCH, this.prefetch - this.held.size - this.unopened) : MAX_BATCH;
  }

  /** Look for messages now (a wake-up, a freed slot, a reconnect). */
  kick(): void {
    if (this.stopped) return;
    if (this.fetching) {
      this.again = true;
      return;
    }
    const n = this.free();
    // No room (`again` stays set when it was): a release, or the end of a batch's hand-out, kicks again.
    if (n <= 0) return;
    this.again = false;
    if (this.pollTimer) {
      clearTimeout(this.pollTimer);
      this.pollTimer = undefined;
    }
    this.fetching = true;
    const run = this.fetchOnce(n).finally(() => this.active.delete(run));
    this.active.add(run);
  }

  /**
   * The fetch script call is over (its batch taken, or it failed): the next
   * one may go out — before this batch is handed out, so that the round trip
   * overlaps the work on this batch instead of idling the worker between
   * batches. Its size counts the messages not handed out yet.
   */
  private fetched(): void {
    this.fetching = false;
    if (this.stopped) return;
    if (this.again) this.kick();
    else this.arm();
  }

  /** Sleep until the next poll (or a wake-up, whichever comes first). */
  private arm(delayMs = this.broker.options.pollingIntervalMs): void {
    if (this.stopped || this.pollTimer || this.free() <= 0) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.kick();
    }, delayMs);
  }

  private async fetchOnce(n: number): Promise<void> {
    const k = this.queues.length;
    const start = this.rotation % k;
    const ordered = [...this.queues.slice(start), ...this.queues.slice(0, start)];
    let entries: FetchedEntry[];
    try {
      entries = await this.broker.fetch(ordered, n, () => !this.stopped);
      this.retryDelayMs = 0;
    } catch (error) {
      // Reconnects are ioredis' job; back off and look again.
      this.retryDelayMs = Math.min(2000, Math.max(50, this.retryDelayMs * 2));
      this.broker.log.warn({ err: error, queues: this.queues }, 'fetch failed; retrying');
      await new Promise((r) => setTimeout(r, this.retryDelayMs));
      this.again = true;
      this.fetched();
      return;
    }
    // Fair turns between queues, as kombu rotates its BRPOP key list.
    this.rotation = (this.rotation + 1) % k;
    // A full batch: more may be waiting, fetch again at once.
    if (entries.length >= n) this.again = true;
    this.unopened += entries.length;
    this.fetched();
    for (const entry of entries) {
      this.unopened--;
      if (entry.kind === 'invalid') {
        this.reportInvalid(entry.queue, new DecodeError('envelope', entry.reason), entry.preview);
        continue;
      }
      let message: TaskMessage;
      let redelivered: boolean;
      try {
        ({ message, redelivered } = openEnvelope(entry.envelope));
      } catch (thrown) {
        // Never throw out of this loop: nothing awaits the fetch (a rejection would kill
        // the worker) and the rest of the batch, already taken, would sit unacked.
        // An unexpected failure (a bug) dead-letters this one entry like a malformed one.
        let error: SerializationError;
        if (thrown instanceof SerializationError) error = thrown;
        else {
          this.broker.log.error({ err: thrown, queue: entry.queue }, 'unexpected failure while decoding a message; dead-lettering it');
          error = new DecodeError('envelope', `could not be decoded (${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)})`, { cause: thrown });
        }
        await this.broker.deadLetter(entry.deliveryTag, entry.queue, entry.envelope, error.message).catch((e) => this.broker.log.error({ err: e }, 'dead-lettering failed; the entry stays unacked and will be restored'));
        this.reportInvalid(entry.queue, error, entry.envelope.slice(0, 200));
        continue;
      }
      const delivery = new RedisDelivery(this, entry.queue, entry.deliveryTag, entry.envelope, message, redelivered);
      this.held.set(entry.deliveryTag, delivery);
      try {
        this.onDelivery(delivery);
      } catch (error) {
        this.broker.log.error({ err: error }, 'onDelivery threw; the delivery stays unacked until acked, rejected or the consumer closes');
      }
    }
    // A fetch wanted while the batch filled the window: entries that were not held (dead-lettered) made room.
    if (this.again && !this.fetching) this.kick();
  }

  private reportInvalid(queue: string, error: DecodeError | SerializationError, preview: string): void {
    this.broker.log.warn({ queue, reason: error.message, deadLetteredTo: this.broker.layout.deadLetter }, 'malformed message dead-lettered');
    try {
      this.onInvalid?.({ queue, error, deadLetteredTo: this.broker.layout.deadLetter, preview });
    } catch (e) {
      this.broker.log.error({ err: e }, 'onInvalid threw');
    }
  }

  /**
   * A delivery was acked or rejected: its prefetch slot is free. The window
   * is refilled once half of it is free (or it ran dry), not slot by slot: a
   * fetch script run per finished task cost more than the task. Half of the
   * prefetch asked for at consume time: the worker raises the prefetch by one
   * per held eta task, and those slots do not free up soon.
   * Below the threshold the poll timer still runs: with long tasks holding
   * the other slots the window may not reach it for a long time, and a free
   * slot must not idle while messages no wake-up announced wait in the queue.
   */
  release(delivery: RedisDelivery): void {
    if (this.held.get(delivery.deliveryTag) === delivery) this.held.delete(delivery.deliveryTag);
    if (this.closed && this.held.size === 0) this.broker.forget(this);
    if (this.prefetch <= 0 || this.held.size === 0 || this.free() >= this.refillAt) this.kick();
    else this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.broker.detach(this);
    // A fetch in flight has already taken its messages: let it hand them out.
    // (One still waiting for a reconnect takes nothing once stopped; do not wait for Redis.)
    if (this.broker.isReady()) await Promise.all(this.active);
  }

  async close(): Promise<void> {
    await this.stop();
    this.closed = true;
    // Warm shutdown: what we took and did not finish goes back, marked redelivered.
    const open = [...this.held.values()];
    await Promise.allSettled(open.map((d) => d.giveBack()));
    this.broker.forget(this);
  }
}

const SETTLED: Promise<void> = Promise.resolve();

/** A delivery from Redis; `deliveryTag` is its key in `unacked` / `unacked_index`. */
export class RedisDelivery implements Delivery {
  private settled = false;

  constructor(
    private readonly consumer: RedisConsumer,
    readonly queue: string,
    readonly deliveryTag: string,
    private readonly envelope: string,
    readonly message: TaskMessage,
    readonly redelivered: boolean,
  ) {}

  /** Not an async function: it hands back the broker's (shared) ack promise, without a wrapper per delivery. */
  ack(): Promise<void> {
    if (this.settled) return SETTLED;
    this.settled = true;
    const done = this.consumer.broker.ack(this.deliveryTag);
    this.consumer.release(this);
    return done;
  }

  async reject(requeue: boolean): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    const broker = this.consumer.broker;
    try {
      if (requeue) await broker.requeue(this.deliveryTag, this.queue, this.envelope);
      else await broker.deadLetter(this.deliveryTag, this.queue, this.envelope, 'rejected');
    } finally {
      this.consumer.release(this);
    }
  }

  /** Return to the queue on close (no-op once settled). */
  async giveBack(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await this.consumer.broker.requeue(this.deliveryTag, this.queue, this.envelope);
  }
}
