/** `publishMany` (what `app.sendMany` uses): one MULTI, kombu's layout, first-in first-out. */
import { createApp, type Delivery } from '@taskq/core';
import { until } from '@taskq/core/testing';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { freshPrefix, silent, urlFor, useRawClient } from './helpers.js';

const DB = 15;
const prefix = freshPrefix('many');
let raw: Redis;

useRawClient(DB, prefix, (r) => {
  raw = r;
});

function app() {
  return createApp({ brokerUrl: urlFor(DB), brokerTransportOptions: { global_keyprefix: prefix }, logger: silent, env: {} });
}

describe('publishMany through app.sendMany', () => {
  it('pushes every message to its queue list and binds the queue as kombu does', async () => {
    const a = app();
    await a.sendMany('many.echo', [[1], [2], [3]], { queue: 'many-q' });
    expect(await raw.llen(`${prefix}many-q`)).toBe(3);
    expect(await raw.smembers(`${prefix}_kombu.binding.many-q`)).toEqual(['many-q\x06\x16\x06\x16many-q']);
    await (await a.getBroker()).purge('many-q');
    await a.close();
  });

  it('delivers them first-in first-out', async () => {
    const a = app();
    const sent = await a.sendMany('many.echo', Array.from({ length: 5 }, (_, i) => [i]), { queue: 'fifo-q' });
    const got: Delivery[] = [];
    const consumer = await (await a.getBroker()).consume(['fifo-q'], (d) => got.push(d), { prefetch: 5 });
    await until(() => got.length === 5, 5000, 'five messages');
    expect(got.map((d) => d.message.headers.id)).toEqual(sent.map((r) => r.id));
    for (const d of got) await d.ack();
    await consumer.close();
    await a.close();
  });

  it('puts messages with a priority in their band', async () => {
    const a = app();
    await a.sendMany('many.echo', [[1], [2]], { queue: 'prio-q', priority: 6 });
    expect(await raw.llen(`${prefix}prio-q\x06\x166`)).toBe(2);
    await (await a.getBroker()).purge('prio-q');
    await a.close();
  });
});
