/**
 * Malformed entries are moved to the dead-letter list (`<global_keyprefix>taskq.dead`)
 * with the reason, reported through onInvalid, and never block the message behind them.
 */
import { readFileSync } from 'node:fs';
import { buildTaskMessage, type Delivery, type InvalidMessage } from '@taskq/core';
import { until } from '@taskq/core/testing';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { RedisBroker } from '../../src/index.js';
import { freshPrefix, useBroker } from './helpers.js';

const DB = 12;
const fixture = (name: string): any => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
const celeryEnvelope = fixture('redis-task-v2-basic.json');

const prefix = freshPrefix('dead');
let raw: Redis;
let broker: RedisBroker;
let n = 0;

/** A copy of Celery's envelope for queue `q`, with a fresh delivery tag and `change` applied. */
function envelope(q: string, change: (env: any) => void = () => {}): string {
  const env = structuredClone(celeryEnvelope);
  env.properties.delivery_tag = `tag-${q}-${Math.random()}`;
  env.properties.delivery_info.routing_key = q;
  change(env);
  return JSON.stringify(env);
}

/**
 * Put `bad` on a fresh queue followed by a valid task; consume and return
 * what was reported invalid, what was delivered, and the dead-letter record.
 */
async function feed(bad: string) {
  const q = `dead-q${++n}`;
  await broker.publishRaw(q, bad);
  await broker.publish(buildTaskMessage({ task: 'after.bad', args: [] }), { queue: q });
  const invalid: InvalidMessage[] = [];
  const delivered: Delivery[] = [];
  const c = await broker.consume([q], (d) => delivered.push(d), { prefetch: 1, onInvalid: (i) => invalid.push(i) });
  await until(() => delivered.length === 1, 5000, 'the valid message behind the bad one');
  await delivered[0]!.ack();
  await c.close();
  const records = (await broker.deadLetters(1000)).filter((r) => r.queue === q);
  expect(await raw.hlen(`${prefix}unacked`)).toBe(0);
  return { q, invalid, delivered, records };
}

useBroker(DB, prefix, (r, b) => {
  raw = r;
  broker = b;
});

describe('malformed entries', () => {
  it.each([
    ['not JSON', () => 'this is {not json', /not JSON/],
    // Names its tag and routing as a well-formed envelope would, so the fetch script tracks it; the decode then finds it broken.
    ['truncated JSON', (q: string) => `{"headers": {}, "properties": {"delivery_info": {"exchange": "", "routing_key": "${q}"}, "delivery_tag": "cut-${q}"`, /not valid JSON/],
    ['missing delivery_tag', (q: string) => envelope(q, (e) => delete e.properties.delivery_tag), /delivery_tag/],
    [
      'a delivery_tag only in the headers',
      (q: string) =>
        envelope(q, (e) => {
          delete e.properties.delivery_tag;
          e.headers.delivery_tag = 'not-the-tag';
        }),
      /delivery_tag missing/,
    ],
    ['missing headers', (q: string) => envelope(q, (e) => delete e.headers), /headers/],
    ['an unknown content-type', (q: string) => envelope(q, (e) => (e['content-type'] = 'application/x-python-serialize')), /content type/],
    ['a body that is not base64', (q: string) => envelope(q, (e) => (e.body = '%%%not-base64%%%')), /base64/],
    ['a body that is not JSON', (q: string) => envelope(q, (e) => (e.body = Buffer.from('[1, 2').toString('base64'))), /body/],
    ['a body that is not [args, kwargs, embed]', (q: string) => envelope(q, (e) => (e.body = Buffer.from('{"a": 1}').toString('base64'))), /body/],
  ])('dead-letters %s with the reason, and delivers the message behind it', async (_kind, make, reason) => {
    const q = `dead-q${n + 1}`;
    const bad = make(q);
    const { invalid, delivered, records } = await feed(bad);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]!.queue).toBe(q);
    expect(invalid[0]!.error.message).toMatch(reason);
    expect(invalid[0]!.deadLetteredTo).toBe(`${prefix}taskq.dead`);
    expect(delivered[0]!.message.headers.task).toBe('after.bad');
    expect(records).toHaveLength(1);
    expect(records[0]!.message).toBe(bad);
    expect(records[0]!.reason).toMatch(reason);
  });

  it('accepts a protocol v1 message (core converts it) instead of dead-lettering it', async () => {
    const q = `dead-q${++n}`;
    const v1 = fixture('redis-task-v1-countdown.json');
    v1.properties.delivery_info.routing_key = q;
    await broker.publishRaw(q, JSON.stringify(v1));
    const delivered: Delivery[] = [];
    const invalid: InvalidMessage[] = [];
    const c = await broker.consume([q], (d) => delivered.push(d), { prefetch: 1, onInvalid: (i) => invalid.push(i) });
    await until(() => delivered.length === 1, 5000, 'the v1 message');
    expect(delivered[0]!.message.headers.task).toBe('interop.add');
    expect(delivered[0]!.message.body[0]).toEqual([2, 2]);
    expect(invalid).toEqual([]);
    await delivered[0]!.ack();
    await c.close();
  });

  it('dead-letters a delivery rejected without requeue, with reason "rejected"', async () => {
    const q = `dead-q${++n}`;
    await broker.publish(buildTaskMessage({ task: 'to.reject', args: [] }), { queue: q });
    const got: Delivery[] = [];
    const c = await broker.consume([q], (d) => got.push(d), { prefetch: 1 });
    await until(() => got.length === 1, 5000, 'the delivery');
    await got[0]!.reject(false);
    await c.close();
    const [record] = (await broker.deadLetters(1000)).filter((r) => r.queue === q);
    expect(record!.reason).toBe('rejected');
    expect(JSON.parse(record!.message).headers.task).toBe('to.reject');
    expect(await raw.hlen(`${prefix}unacked`)).toBe(0);
  });
});
