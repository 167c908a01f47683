/**
 * A consumer of one or more queues on its own channel: `basic.qos` with
 * `global=true` (Celery's choice: RabbitMQ ≥ 3.3 made `global=false`
 * per-consumer), manual acks, and `redelivered` from the broker.
 *
 * It outlives its channel: when the channel or connection is lost it
 * re-declares its queues and consumes again on the next connection
 * (deliveries of the old channel are void — RabbitMQ requeues them). A
 * `basic.cancel` from the server (queue deleted) re-declares and re-consumes.
 */
import {
  type ConsumeOptions,
  type Consumer,
  type Delivery,
  fromWireMessage,
  type Logger,
  type SerializationError,
  type TaskMessage,
  isTaskqError,
} from '@taskq/core';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { AmqpConnection } from './amqp-connection.js';
import { AckBatcher } from './ack-batcher.js';
import { toTaskqError } from './amqp-errors.js';
import type { QueueSpec } from './celery-topology.js';
import type { TopologyManager } from './topology-manager.js';
import { fromAmqpMessage } from './wire.js';

/** What a consumer needs from its broker. */
export interface ConsumerHost {
  connection: AmqpConnection;
  topology: TopologyManager;
  log: Logger;
  timeoutMs(): number;
  queueSpec(queue: string): QueueSpec;
  /** `basic.qos` global flag (false for quorum queues, which refuse global QoS). */
  globalQos: boolean;
  /** Move a malformed message to the dead-letter queue; resolves with where it went. */
  deadLetter(msg: ConsumeMessage, queue: string, error: SerializationError): Promise<string>;
}

class AmqpDelivery implements Delivery {
  private settled = false;
  constructor(
    readonly message: TaskMessage,
    readonly queue: string,
    readonly redelivered: boolean,
    private readonly msg: ConsumeMessage,
    private readonly channel: Channel,
    private readonly consumer: AmqpConsumer,
  ) {}

  async ack(): Promise<void> {
    this.settle((acks) => acks.ack(this.msg.fields.deliveryTag));
  }

  async reject(requeue: boolean): Promise<void> {
    this.settle((acks) => acks.nack(this.msg.fields.deliveryTag, requeue));
  }

  private settle(fn: (acks: AckBatcher) => void): void {
    if (this.settled) return;
    this.settled = true;
    this.consumer.settled(this, this.channel, fn);
  }
}

type State = 'running' | 'stopped' | 'closed';

export class AmqpConsumer implements Consumer {
  private state: State = 'running';
  private channel: Channel | undefined;
  /** Acks of the current channel, coalesced per event-loop turn. */
  private acks: AckBatcher | undefined;
  private readonly tags = new Map<string, string>();
  private readonly held = new Set<AmqpDelivery>();
  private resuming = false;
  private prefetch: number;

  constructor(
    readonly queues: readonly string[],
    private readonly host: ConsumerHost,
    private readonly onDelivery: (delivery: Delivery) => void,
    private readonly options: ConsumeOptions,
  ) {
    this.prefetch = options.prefetch;
  }

  /** Open the channel and start consuming; throws (e.g. a 406 declaration mismatch) when the first attempt fails. */
  async start(): Promise<void> {
    await this.open();
  }

  setPrefetch(prefetch: number): void {
    this.prefetch = prefetch;
    const ch = this.channel;
    if (ch) ch.prefetch(prefetch, this.host.globalQos).catch((error) => this.host.log.warn({ err: error }, 'could not change the prefetch'));
  }

  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopped';
    await this.cancelAll();
    if (this.held.size === 0) await this.closeChannel();
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.cancelAll();
    const ch = this.channel;
    // Every delivery still held goes back to its queue; RabbitMQ marks it redelivered.
    if (ch && this.acks) {
      try {
        // Acks asked for go out first, so only what was not acked is requeued.
        this.acks.nackAll(true);
      } catch {
        // channel already gone: the broker requeues them itself
      }
    }
    this.held.clear();
    await this.closeChannel();
  }

  /** Called by a delivery when acked or rejected. */
  settled(delivery: AmqpDelivery, channel: Channel, fn: (acks: AckBatcher) => void): void {
    if (!this.held.delete(delivery)) return;
    if (channel !== this.channel || !this.acks) {
      // The channel it came on is gone; RabbitMQ has already requeued it.
      this.host.log.debug({ queue: delivery.queue, id: delivery.message.headers.id }, 'ack/reject of a delivery from a closed channel ignored (it was requeued)');
      return;
    }
    try {
      fn(this.acks);
    } catch (error) {
      this.host.log.debug({ err: error }, 'ack/reject on a closing channel ignored');
    }
    if (this.state === 'stopped' && this.held.size === 0) void this.closeChannel();
  }

  private async open(): Promise<void> {
    const model = await this.host.connection.ready(this.host.timeoutMs());
    let channel: Channel;
    try {
      channel = await model.createChannel();
    } catch (error) {
      throw toTaskqError(error, 'opening a consumer channel');
    }
    channel.on('error', (error: Error) => this.host.log.warn({ err: error, queues: this.queues }, 'AMQP consumer channel closed by the broker'));
    channel.on('close', () => this.onChannelClosed(channel));
    this.channel = channel;
    this.acks = new AckBatcher(channel, (error) => this.host.log.debug({ err: error }, 'acks on a closing channel dropped (RabbitMQ requeues those deliveries)'));
    this.tags.clear();
    try {
      await channel.prefetch(this.prefetch, this.host.globalQos);
      for (const queue of this.queues) {
        await this.host.topology.declare(this.host.queueSpec(queue));
        await this.consumeQueue(channel, queue);
      }
    } catch (error) {
      if (this.channel === channel) {
        this.channel = undefined;
        this.acks = undefined;
      }
      await channel.close().catch(() => {});
      throw isTaskqError(error) ? error : toTaskqError(error, `consuming from ${this.queues.join(', ')}`);
    }
  }

  private async consumeQueue(channel: Channel, queue: string): Promise<void> {
    const ok = await channel.consume(queue, (msg) => this.onMessage(channel, queue, msg), { noAck: false });
    this.tags.set(queue, ok.consumerTag);
  }

  private onMessage(channel: Channel, queue: string, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // basic.cancel from the server: the queue was deleted (or its node went away).
      this.tags.delete(queue);
      this.host.topology.forget(queue);
      if (this.state !== 'running') return;
      this.host.log.warn({ queue }, 'RabbitMQ cancelled the consumer (queue deleted?); declaring the queue again and consuming');
      void this.reconsume(channel, queue);
      return;
    }
    if (channel !== this.channel || !this.acks) return; // a late delivery of a replaced channel: RabbitMQ requeues it
    this.acks.delivered(msg.fields.deliveryTag);
    const wire = fromAmqpMessage(msg);
    let message: TaskMessage;
    try {
      message = fromWireMessage(wire);
    } catch (error) {
      if (!isTaskqError(error) || !(error.code === 'TASKQ_ERR_DECODE' || error.code === 'TASKQ_ERR_CONTENT_DISALLOWED')) {
        this.host.log.error({ err: error, queue }, 'unexpected error decoding a message; dead-lettering it');
      }
      void this.deadLetter(channel, this.acks, queue, msg, error as SerializationError);
      return;
    }
    const delivery = new AmqpDelivery(message, queue, msg.fields.redelivered, msg, channel, this);
    this.held.add(delivery);
    try {
      this.onDelivery(delivery);
    } catch (error) {
      this.host.log.error({ err: error, queue }, 'the delivery handler threw; the message stays unacknowledged');
    }
  }

  private async deadLetter(channel: Channel, acks: AckBatcher, queue: string, msg: ConsumeMessage, error: SerializationError): Promise<void> {
    try {
      const where = await this.host.deadLetter(msg, queue, error);
      if (channel === this.channel) acks.ack(msg.fields.deliveryTag);
      this.host.log.warn({ queue, reason: error.message, deadLetteredTo: where }, 'malformed message dead-lettered');
      this.options.onInvalid?.({ queue, error, deadLetteredTo: where, preview: msg.content.toString('utf8', 0, 200) });
    } catch (failure) {
      // Not moved: leave it to the broker (requeued when this channel closes), never drop it.
      this.host.log.error({ err: failure, queue }, 'could not dead-letter a malformed message; requeueing it');
      await new Promise((r) => setTimeout(r, 1000));
      if (channel === this.channel) {
        try {
          acks.nack(msg.fields.deliveryTag, true);
        } catch {
          // channel gone: requeued by the broker
        }
      }
    }
  }

  private async reconsume(channel: Channel, queue: string): Promise<void> {
    let delay = 100;
    while (this.state === 'running' && channel === this.channel) {
      try {
        await this.host.topology.declare(this.host.queueSpec(queue));
        await this.consumeQueue(channel, queue);
        return;
      } catch (error) {
        this.host.log.warn({ err: error, queue }, 'could not consume again; retrying');
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private onChannelClosed(channel: Channel): void {
    if (channel !== this.channel) return;
    this.channel = undefined;
    this.acks = undefined;
    this.tags.clear();
    // Deliveries of the closed channel are void: RabbitMQ requeues them.
    this.held.clear();
    if (this.state === 'running') void this.resume();
  }

  private async resume(): Promise<void> {
    if (this.resuming) return;
    this.resuming = true;
    let delay = 100;
    try {
      while (this.state === 'running' && !this.channel) {
        try {
          await this.open();
          this.host.log.info({ queues: this.queues }, 'consuming again after a channel or connection loss');
          return;
        } catch (error) {
          this.host.log.warn({ err: error, queues: this.queues }, 'could not resume consuming; retrying');
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 5000);
        }
      }
    } finally {
      this.resuming = false;
    }
  }

  private async cancelAll(): Promise<void> {
    const ch = this.channel;
    const tags = [...this.tags.values()];
    this.tags.clear();
    if (!ch) return;
    for (const tag of tags) await ch.cancel(tag).catch(() => {});
  }

  private async closeChannel(): Promise<void> {
    const ch = this.channel;
    const acks = this.acks;
    this.channel = undefined;
    this.acks = undefined;
    try {
      // Acks asked for this turn go out before the channel closes (else RabbitMQ would requeue them).
      acks?.flush();
    } catch {
      // channel already gone: the broker requeues them itself
    }
    if (ch) await ch.close().catch(() => {});
  }
}
