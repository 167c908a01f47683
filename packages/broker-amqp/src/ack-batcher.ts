/**
 * Acknowledgements of one consumer channel, coalesced per event-loop turn.
 *
 * A worker acks nearly every delivery in the order it arrived (Celery's early
 * ack, when the pool takes the task). Sending one `basic.ack` per message
 * costs a frame each way of parsing and, on RabbitMQ's side, a queue update
 * per frame. Here an ack is recorded and, at the end of the turn
 * (`setImmediate`), the longest run of acked deliveries at the head of the
 * channel's unsettled ones goes out as a single `basic.ack` with
 * `multiple=true`; acks that are not part of that run (a delivery before
 * them is still running, with acks_late or an eta) go out one by one in the
 * same turn, so nothing waits longer than a turn.
 *
 * `multiple=true` settles every unsettled delivery tag up to the given one,
 * so every delivery of the channel must pass through {@link delivered} —
 * those dead-lettered too — or an ack could cover a message still held.
 * Rejections are never batched: they go out at once.
 */
import type { Channel, Message } from 'amqplib';

/** amqplib's ack/nack read only `fields.deliveryTag` of the message they are given. */
const byTag = (deliveryTag: number): Message => ({ fields: { deliveryTag } }) as unknown as Message;

export class AckBatcher {
  /** Unsettled delivery tags of the channel, in delivery (= tag) order → whether an ack is waiting to go out. */
  private readonly unsettled = new Map<number, boolean>();
  private waitingAcks = 0;
  private scheduled = false;
  private readonly flushSoon = (): void => {
    this.scheduled = false;
    try {
      this.flush();
    } catch (error) {
      // The channel closed under us: RabbitMQ requeues what it had not been told about.
      this.onFlushError(error);
    }
  };

  constructor(
    private readonly channel: Channel,
    private readonly onFlushError: (error: unknown) => void,
  ) {}

  /** A delivery arrived on the channel (call for every one, before it can be acked). */
  delivered(deliveryTag: number): void {
    this.unsettled.set(deliveryTag, false);
  }

  /** Ack a delivery by the end of this event-loop turn. */
  ack(deliveryTag: number): void {
    if (this.unsettled.get(deliveryTag) !== false) return;
    this.unsettled.set(deliveryTag, true);
    this.waitingAcks++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushSoon);
    }
  }

  /** Reject a delivery now (after the acks waiting, so the order the caller chose holds). */
  nack(deliveryTag: number, requeue: boolean): void {
    if (this.unsettled.get(deliveryTag) !== false) return;
    this.flush();
    this.unsettled.delete(deliveryTag);
    this.channel.nack(byTag(deliveryTag), false, requeue);
  }

  /** Reject every delivery not acked yet (acks already asked for go out first, so they are not requeued). */
  nackAll(requeue: boolean): void {
    this.flush();
    if (this.unsettled.size > 0) this.channel.nackAll(requeue);
    this.unsettled.clear();
  }

  /** Send the acks waiting: one multiple ack for the settled head, single acks for the rest. Throws if the channel is closed. */
  flush(): void {
    if (this.waitingAcks === 0) return;
    let head = -1;
    let headCount = 0;
    for (const [tag, acked] of this.unsettled) {
      if (!acked) break;
      head = tag;
      headCount++;
    }
    const singles: number[] = [];
    if (headCount < this.waitingAcks) {
      for (const [tag, acked] of this.unsettled) if (acked && tag > head) singles.push(tag);
    }
    for (const [tag] of this.unsettled) {
      if (tag > head) break;
      this.unsettled.delete(tag);
    }
    for (const tag of singles) this.unsettled.delete(tag);
    this.waitingAcks = 0;
    if (headCount > 0) this.channel.ack(byTag(head), headCount > 1);
    for (const tag of singles) this.channel.ack(byTag(tag), false);
  }
}
