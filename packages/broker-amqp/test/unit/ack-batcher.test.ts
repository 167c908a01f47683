import type { Channel, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AckBatcher } from '../../src/ack-batcher.js';

/** A channel that records the acks and nacks amqplib would send. */
function recordingChannel(): { channel: Channel; sent: string[] } {
  const sent: string[] = [];
  const channel = {
    ack: (m: Message, multiple?: boolean) => sent.push(`ack ${m.fields.deliveryTag}${multiple ? ' multiple' : ''}`),
    nack: (m: Message, multiple?: boolean, requeue?: boolean) => sent.push(`nack ${m.fields.deliveryTag}${multiple ? ' multiple' : ''}${requeue ? ' requeue' : ''}`),
    nackAll: (requeue?: boolean) => sent.push(`nackAll${requeue ? ' requeue' : ''}`),
  } as unknown as Channel;
  return { channel, sent };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function batcherWith(tags: number[]): { acks: AckBatcher; sent: string[] } {
  const { channel, sent } = recordingChannel();
  const acks = new AckBatcher(channel, (error) => {
    throw error;
  });
  for (const tag of tags) acks.delivered(tag);
  return { acks, sent };
}

describe('AckBatcher (acks coalesced per event-loop turn)', () => {
  it('sends the acks of one turn in order as a single multiple ack', async () => {
    const { acks, sent } = batcherWith([1, 2, 3]);
    acks.ack(1);
    acks.ack(2);
    acks.ack(3);
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual(['ack 3 multiple']);
  });

  it('sends a lone ack without the multiple flag', async () => {
    const { acks, sent } = batcherWith([7]);
    acks.ack(7);
    await nextTurn();
    expect(sent).toEqual(['ack 7']);
  });

  it('never covers a delivery still held: acks after it go out one by one', async () => {
    const { acks, sent } = batcherWith([1, 2, 3, 4]);
    acks.ack(1);
    acks.ack(3);
    acks.ack(4);
    await nextTurn();
    expect(sent).toEqual(['ack 1', 'ack 3', 'ack 4']);
    acks.ack(2);
    await nextTurn();
    expect(sent.at(-1)).toBe('ack 2');
  });

  it('covers deliveries acked one by one earlier once the head is acked', async () => {
    const { acks, sent } = batcherWith([1, 2, 3, 4]);
    acks.ack(2);
    await nextTurn();
    acks.ack(1);
    acks.ack(3);
    await nextTurn();
    expect(sent).toEqual(['ack 2', 'ack 3 multiple']);
  });

  it('rejects at once, after the acks already asked for', () => {
    const { acks, sent } = batcherWith([1, 2]);
    acks.ack(1);
    acks.nack(2, true);
    expect(sent).toEqual(['ack 1', 'nack 2 requeue']);
  });

  it('ignores a second ack or reject of the same delivery (RabbitMQ would close the channel)', async () => {
    const { acks, sent } = batcherWith([1]);
    acks.ack(1);
    acks.ack(1);
    acks.nack(1, false);
    await nextTurn();
    acks.ack(1);
    await nextTurn();
    expect(sent).toEqual(['ack 1']);
  });

  it('on nackAll sends the acks asked for first, so acked deliveries are not requeued', () => {
    const { acks, sent } = batcherWith([1, 2, 3]);
    acks.ack(1);
    acks.ack(2);
    acks.nackAll(true);
    expect(sent).toEqual(['ack 2 multiple', 'nackAll requeue']);
  });

  it('reports a flush on a closed channel instead of throwing from the event loop', async () => {
    const errors: unknown[] = [];
    const channel = {
      ack: () => {
        throw new Error('Channel closed');
      },
    } as unknown as Channel;
    const acks = new AckBatcher(channel, (error) => errors.push(error));
    acks.delivered(1);
    acks.ack(1);
    await nextTurn();
    expect(errors).toHaveLength(1);
  });
});
