/**
 * The embedded `memory://` broker: queues in this process, shared by every
 * app in it that names the same URL (`memory://` or `memory://<name>`). It is
 * the default transport and behaves like a real one — messages are stored
 * encoded, acknowledgements are tracked per consumer, unacknowledged messages
 * of a consumer that goes away are redelivered, priorities are honoured
 * (0 first, as on Redis) and malformed messages are dead-lettered.
 */
import type { Broker, BrokerCapabilities, ConsumeOptions, Consumer, Delivery, InvalidMessage, PublishRoute } from '../broker.js';
import { BrokerConnectionError, SerializationError } from '../errors.js';
import type { TaskMessage } from '../message.js';
import { fromWireMessage, toWireMessage, type WireMessage } from '../message-codec.js';
import { Fifo } from '../fifo.js';
import { MemoryExchanges, MemoryFanout } from './memory-fanout.js';

const PRIORITY_LEVELS = 10;

/** A stored message: the wire form plus delivery bookkeeping. */
interface Stored {
  wire: WireMessage;
  redelivered: boolean;
}

class MemoryQueue {
  /** One FIFO per priority 0–9; index 0 is consumed first. */
  private readonly levels: Fifo<Stored>[] = Array.from({ length: PRIORITY_LEVELS }, () => new Fifo<Stored>());
  readonly deadLetters: Array<{ wire: WireMessage; reason: string }> = [];

  push(item: Stored, front = false): void {
    const level = this.levels[priorityLevel(item.wire.properties.priority)]!;
    if (front) level.unshift(item);
    else level.push(item);
  }

  shift(): Stored | undefined {
    for (const level of this.levels) if (level.length > 0) return level.shift();
    return undefined;
  }

  get size(): number {
    return this.levels.reduce((n, l) => n + l.length, 0);
  }

  clear(): number {
    const n = this.size;
    for (const l of this.levels) l.clear();
    return n;
  }
}

function priorityLevel(p: unknown): number {
  if (typeof p !== 'number' || !Number.isFinite(p)) return 0;
  return Math.min(PRIORITY_LEVELS - 1, Math.max(0, Math.trunc(p)));
}

/** The state behind one `memory://<name>` URL. */
class MemoryVirtualHost {
  readonly queues = new Map<string, MemoryQueue>();
  readonly consumers = new Set<MemoryConsumer>();
  /** Broadcast exchanges (remote control, events) of this host. */
  readonly exchanges = new MemoryExchanges();

  queue(name: string): MemoryQueue {
    let q = this.queues.get(name);
    if (!q) {
      q = new MemoryQueue();
      this.queues.set(name, q);
    }
    return q;
  }

  /** Hand waiting messages to consumers with free prefetch slots, round-robin. */
  private scheduled = false;
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    let progress = true;
    while (progress) {
      progress = false;
      for (const consumer of this.consumers) {
        if (consumer.takeOne()) progress = true;
      }
    }
  }
}

const hosts = new Map<string, MemoryVirtualHost>();

function hostFor(url: string): MemoryVirtualHost {
  const key = url.replace(/^memory:\/\//i, '').replace(/\/+$/, '');
  let h = hosts.get(key);
  if (!h) {
    h = new MemoryVirtualHost();
    hosts.set(key, h);
  }
  return h;
}

class MemoryConsumer implements Consumer {
  private readonly unacked = new Set<MemoryDelivery>();
  private stopped = false;
  private rotation = 0;

  constructor(
    private readonly host: MemoryVirtualHost,
    readonly queues: readonly string[],
    private readonly onDelivery: (d: Delivery) => void,
    private prefetch: number,
    private readonly onInvalid: ((i: InvalidMessage) => void) | undefined,
  ) {}

  setPrefetch(prefetch: number): void {
    this.prefetch = prefetch;
    this.host.schedule();
  }

  /** Take one message if this consumer has room; true when something was taken. */
  takeOne(): boolean {
    if (this.stopped) return false;
    if (this.prefetch > 0 && this.unacked.size >= this.prefetch) return false;
    for (let i = 0; i < this.queues.length; i++) {
      const name = this.queues[(this.rotation + i) % this.queues.length]!;
      const queue = this.host.queue(name);
      const item = queue.shift();
      if (!item) continue;
      this.rotation = (this.rotation + i + 1) % this.queues.length;
      let message: TaskMessage;
      try {
        message = fromWireMessage(item.wire);
      } catch (error) {
        if (!(error instanceof SerializationError)) throw error;
        queue.deadLetters.push({ wire: item.wire, reason: error.message });
        this.onInvalid?.({
          queue: name,
          error,
          deadLetteredTo: `memory dead letters of ${name}`,
          preview: item.wire.body.slice(0, 200),
        });
        return true;
      }
      const delivery = new MemoryDelivery(this, name, item, message);
      this.unacked.add(delivery);
      this.onDelivery(delivery);
      return true;
    }
    return false;
  }

  settle(delivery: MemoryDelivery, requeue: boolean | undefined, reason?: string): void {
    if (!this.unacked.delete(delivery)) return;
    const queue = this.host.queue(delivery.queue);
    if (requeue === true) queue.push({ wire: delivery.stored.wire, redelivered: true }, true);
    else if (requeue === false) queue.deadLetters.push({ wire: delivery.stored.wire, reason: reason ?? 'rejected' });
    this.host.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.host.consumers.delete(this);
  }

  async close(): Promise<void> {
    await this.stop();
    for (const d of [...this.unacked]) this.settle(d, true);
  }
}

class MemoryDelivery implements Delivery {
  readonly redelivered: boolean;
  constructor(
    private readonly consumer: MemoryConsumer,
    readonly queue: string,
    readonly stored: Stored,
    readonly message: TaskMessage,
  ) {
    this.redelivered = stored.redelivered;
  }

  async ack(): Promise<void> {
    this.consumer.settle(this, undefined);
  }

  async reject(requeue: boolean): Promise<void> {
    this.consumer.settle(this, requeue);
  }
}

export class MemoryBroker implements Broker {
  readonly transport = 'memory';
  readonly capabilities: BrokerCapabilities = {
    priority: true,
    priorityOrder: 'lowest-first',
    fanout: true,
    delayedDelivery: false,
    nativeAck: true,
  };
  private readonly host: MemoryVirtualHost;
  private fanoutChannel: MemoryFanout | undefined;
  private readonly own = new Set<MemoryConsumer>();
  private closed = false;

  constructor(readonly displayUrl: string) {
    this.host = hostFor(displayUrl);
  }

  async connect(): Promise<void> {
    this.closed = false;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.own]) await c.close();
    this.own.clear();
    await this.fanoutChannel?.close();
  }

  /** Broadcast exchanges shared by every broker on this memory:// URL (remote control, events). */
  fanout(): MemoryFanout {
    this.fanoutChannel ??= new MemoryFanout(this.host.exchanges);
    return this.fanoutChannel;
  }

  async publish(message: TaskMessage, route: PublishRoute): Promise<void> {
    if (this.closed) throw new BrokerConnectionError('the memory:// broker was closed; create a new one to publish again');
    this.publishWire(toWireMessage(message), route.routingKey ?? route.queue);
  }

  /**
   * Put a message on a queue in wire form, as another producer might — for
   * tests of malformed input. Nothing is validated.
   */
  publishWire(wire: WireMessage, queue: string): void {
    this.host.queue(queue).push({ wire, redelivered: false });
    this.host.schedule();
  }

  /** Messages dead-lettered from a queue, with the reason. */
  deadLetters(queue: string): ReadonlyArray<{ wire: WireMessage; reason: string }> {
    return this.host.queue(queue).deadLetters;
  }

  async consume(queues: readonly string[], onDelivery: (d: Delivery) => void, options: ConsumeOptions): Promise<Consumer> {
    if (this.closed) throw new BrokerConnectionError('the memory:// broker was closed; create a new one to consume again');
    const consumer = new MemoryConsumer(this.host, [...queues], onDelivery, options.prefetch, options.onInvalid);
    this.host.consumers.add(consumer);
    this.own.add(consumer);
    this.host.schedule();
    return consumer;
  }

  async purge(queue: string): Promise<number> {
    return this.host.queue(queue).clear();
  }

  async queueSize(queue: string): Promise<number> {
    return this.host.queue(queue).size;
  }
}

export function createMemoryBroker(url = 'memory://'): MemoryBroker {
  return new MemoryBroker(url);
}
