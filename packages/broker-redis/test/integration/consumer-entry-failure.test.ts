/**
 * An unexpected failure while handling one fetched entry (here: a bug in
 * decoding, simulated by making openEnvelope throw a TypeError for one task
 * name) dead-letters that entry with the reason and still delivers the rest
 * of the batch; nothing escapes as an unhandled rejection.
 */
import { randomUUID } from 'node:crypto';
import { buildTaskMessage, type Delivery, type InvalidMessage } from '@taskq/core';
import { until } from '@taskq/core/testing';
import type { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import type { RedisBroker } from '../../src/index.js';
import { freshPrefix, useBroker } from './helpers.js';

vi.mock('../../src/envelope.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/envelope.js')>();
  return {
    ...original,
    openEnvelope: (raw: string) => {
      if (raw.includes('"task":"buggy.decode"')) throw new TypeError('simulated bug while decoding');
      return original.openEnvelope(raw);
    },
  };
});

const DB = 12;
const prefix = freshPrefix('entry-failure');
let raw: Redis;
let broker: RedisBroker;

useBroker(DB, prefix, (r, b) => {
  raw = r;
  broker = b;
});

describe('an entry that fails unexpectedly', () => {
  it('is dead-lettered with the reason while the rest of its batch is delivered', async () => {
    const q = `entry-failure-${randomUUID().slice(0, 8)}`;
    for (const task of ['before.bug', 'buggy.decode', 'after.bug']) await broker.publish(buildTaskMessage({ task, args: [] }), { queue: q });
    const delivered: Delivery[] = [];
    const invalid: InvalidMessage[] = [];
    const c = await broker.consume([q], (d) => delivered.push(d), { prefetch: 3, onInvalid: (i) => invalid.push(i) });
    await until(() => delivered.length === 2 && invalid.length === 1, 5000, 'two deliveries and one invalid report');
    expect(delivered.map((d) => d.message.headers.task)).toEqual(['before.bug', 'after.bug']);
    for (const d of delivered) await d.ack();
    await c.close();
    const records = (await broker.deadLetters(1000)).filter((r) => r.queue === q);
    expect(records).toHaveLength(1);
    expect(records[0]!.reason).toContain('simulated bug while decoding');
    expect(await raw.hlen(`${prefix}unacked`)).toBe(0);
  });
});
