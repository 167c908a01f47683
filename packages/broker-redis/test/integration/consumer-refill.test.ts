/**
 * The prefetch window is refilled in batches (once half of it is free), but a
 * free slot below that threshold must not idle while messages wait: the poll
 * timer still runs, so messages no taskq producer announced (Python Celery's,
 * or a raw LPUSH) fill it within one polling interval.
 */
import { randomUUID } from 'node:crypto';
import { buildTaskMessage, type Delivery } from '@taskq/core';
import { until } from '@taskq/core/testing';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { buildEnvelope } from '../../src/envelope.js';
import type { RedisBroker } from '../../src/index.js';
import { freshPrefix, useBroker } from './helpers.js';

const DB = 12;
const prefix = freshPrefix('refill');
let raw: Redis;
let broker: RedisBroker;

useBroker(DB, prefix, (r, b) => {
  raw = r;
  broker = b;
});

describe('prefetch refill', () => {
  it('fills a single freed slot from a backlog no producer announced, while the other slots stay busy', async () => {
    const q = `refill-${randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 4; i++) await broker.publish(buildTaskMessage({ task: `first.${i}`, args: [] }), { queue: q });
    const got: Delivery[] = [];
    const c = await broker.consume([q], (d) => got.push(d), { prefetch: 4 });
    await until(() => got.length === 4, 5000, 'the first four deliveries');
    // Three long tasks keep their slots; the short one finishes: one slot free, below the batch refill threshold.
    await got[3]!.ack();
    // A backlog pushed without a wake-up publish (as another producer would).
    for (let i = 0; i < 3; i++) await raw.lpush(`${prefix}${q}`, buildEnvelope(buildTaskMessage({ task: `backlog.${i}`, args: [] }), q).envelope);
    await until(() => got.length === 5, 1000, 'the freed slot to take a backlog message');
    expect(got[4]!.message.headers.task).toMatch(/^backlog\./);
    await c.close();
  });

  it('sends the next fetch before handing out a full batch, and never holds more than the prefetch', async () => {
    const q = `refill-${randomUUID().slice(0, 8)}`;
    await broker.publishMany(Array.from({ length: 250 }, (_, i) => ({ message: buildTaskMessage({ task: 'overlap', args: [i] }), route: { queue: q } })));
    const fetch = broker.fetch.bind(broker);
    const sizes: number[] = [];
    broker.fetch = (queues, max, stillWanted) => {
      sizes.push(max);
      return fetch(queues, max, stillWanted);
    };
    const fetchesAtFirstDelivery: number[] = [];
    const got: Delivery[] = [];
    try {
      const c = await broker.consume(
        [q],
        (d) => {
          if (got.length === 0) fetchesAtFirstDelivery.push(sizes.length);
          got.push(d);
        },
        { prefetch: 150 },
      );
      await until(() => got.length === 150, 5000, 'a full window');
      // The first batch (100) was taken; the second fetch, for the 50 slots it left, went out before its first delivery.
      expect(fetchesAtFirstDelivery).toEqual([2]);
      expect(sizes.slice(0, 2)).toEqual([100, 50]);
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toHaveLength(150);
      expect(await raw.hlen(`${prefix}unacked`)).toBe(150);
      await Promise.all(got.map((d) => d.ack()));
      await until(() => got.length === 250, 5000, 'the rest once the window is free');
      await Promise.all(got.slice(150).map((d) => d.ack()));
      await c.close();
    } finally {
      broker.fetch = fetch;
    }
  });
});
