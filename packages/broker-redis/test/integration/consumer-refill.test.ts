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
});
