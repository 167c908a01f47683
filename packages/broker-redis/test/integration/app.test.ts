/**
 * Through core: `createApp({ brokerUrl: 'redis://…' })` loads this package
 * (core's transport registry), and configures it from the app's settings.
 * Needs `pnpm build` first (core imports the built package by name).
 */
import { createApp, type Delivery } from '@taskq/core';
import { until } from '@taskq/core/testing';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { freshPrefix, silent, urlFor, useRawClient } from './helpers.js';

const DB = 15;
const prefix = freshPrefix('app');
let raw: Redis;

useRawClient(DB, prefix, (r) => {
  raw = r;
});

describe('as an app transport', () => {
  it('sends a task over redis:// with the app’s transport options and reads its result from the redis backend', async () => {
    const app = createApp({
      brokerUrl: urlFor(DB),
      brokerTransportOptions: { global_keyprefix: prefix, visibility_timeout: 120 },
      resultExpires: 600,
      logger: silent,
      env: {},
    });
    const broker = await app.getBroker();
    const backend = await app.getBackend();
    expect(broker.transport).toBe('redis');
    expect(backend.backend).toBe('redis');
    const result = await app.sendTask('app.add', [2, 3], {}, { queue: 'app-q' });
    expect(await raw.llen(`${prefix}app-q`)).toBe(1);

    const got: Delivery[] = [];
    const consumer = await broker.consume(['app-q'], (d) => got.push(d), { prefetch: 1 });
    await until(() => got.length === 1, 5000, 'the task');
    const id = got[0]!.message.headers.id;
    expect(id).toBe(result.id);
    await backend.store(id, { status: 'SUCCESS', result: 5, traceback: null, children: [], date_done: null, task_id: id });
    await got[0]!.ack();
    expect(await result.get({ timeout: 5000 })).toBe(5);
    expect(await raw.ttl(`celery-task-meta-${id}`)).toBeLessThanOrEqual(600);
    await consumer.close();
    await result.forget();
    await app.close();
  });
});
