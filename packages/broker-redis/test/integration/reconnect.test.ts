/**
 * Connection loss: a running consumer resumes on its own after its
 * connections are killed; a publish to an unreachable Redis fails with
 * BrokerConnectionError after the configured timeout instead of hanging.
 * Only this file's own connections are killed (by name), never other clients.
 */
import { randomUUID } from 'node:crypto';
import { BrokerConnectionError, buildTaskMessage, type Delivery } from '@taskq/core';
import { until } from '@taskq/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBroker, createRedisResultBackend, type RedisBroker } from '../../src/index.js';
import { brokerFor, deletePrefix, freshPrefix, rawClient, silent, urlFor } from './helpers.js';

const DB = 13;
const prefix = freshPrefix('reconnect');
const connectionName = `taskq-reconnect-test-${randomUUID().slice(0, 8)}`;
let raw: Redis;
const brokers: RedisBroker[] = [];

/** CLIENT KILL every connection of this file's brokers; returns how many. */
async function killOwnConnections(): Promise<number> {
  const list = (await raw.client('LIST')) as string;
  const ids = list
    .split('\n')
    .filter((line) => line.includes(` name=${connectionName} `))
    .map((line) => /\bid=(\d+)/.exec(line)![1]!);
  for (const id of ids) await raw.client('KILL', 'ID', id);
  return ids.length;
}

beforeAll(async () => {
  raw = await rawClient(DB);
});
afterAll(async () => {
  for (const b of brokers) await b.close();
  await deletePrefix(raw, prefix);
  raw.disconnect();
});

describe('reconnects', () => {
  it('a running consumer resumes after its connections are killed', async () => {
    const b = brokerFor(DB, prefix, { redis: { connectionName } });
    brokers.push(b);
    await b.connect();
    const q = `reconnect-${randomUUID().slice(0, 8)}`;
    const got: Delivery[] = [];
    const c = await b.consume([q], (d) => {
      got.push(d);
      void d.ack();
    }, { prefetch: 4 });
    await b.publish(buildTaskMessage({ task: 'before.kill', args: [] }), { queue: q });
    await until(() => got.length === 1, 5000, 'the first delivery');
    expect(await killOwnConnections()).toBeGreaterThanOrEqual(2);
    await b.publish(buildTaskMessage({ task: 'after.kill', args: [] }), { queue: q });
    await until(() => got.length === 2, 10_000, 'a delivery after the reconnect');
    expect(got[1]!.message.headers.task).toBe('after.kill');
    await c.close();
    expect(await raw.hlen(`${prefix}unacked`)).toBe(0);
  });

  it('a result waiter still gets its result after the backend connections are killed', async () => {
    const waiterBackend = createRedisResultBackend({ url: urlFor(DB), log: silent, redis: { connectionName } });
    const writer = createRedisResultBackend({ url: urlFor(DB), log: silent });
    await Promise.all([waiterBackend.connect(), writer.connect()]);
    const id = randomUUID();
    const waiting = waiterBackend.wait(id, { timeoutMs: 10_000 });
    waiting.catch(() => {}); // awaited below; the kill must not count as unhandled meanwhile
    await killOwnConnections();
    await writer.store(id, { status: 'SUCCESS', result: 42, traceback: null, children: [], date_done: null, task_id: id });
    expect((await waiting).result).toBe(42);
    await writer.forget(id);
    await Promise.all([waiterBackend.close(), writer.close()]);
  });

  it('publish to an unreachable Redis fails with BrokerConnectionError after the connection timeout', async () => {
    const b = createRedisBroker({ url: 'redis://127.0.0.1:1/0', connectionTimeoutMs: 300, log: silent });
    brokers.push(b);
    await expect(b.publish(buildTaskMessage({ task: 'never.sent', args: [] }), { queue: 'nowhere' })).rejects.toBeInstanceOf(BrokerConnectionError);
  });

  it('connect to an unreachable Redis fails with BrokerConnectionError saying what to check', async () => {
    const b = createRedisBroker({ url: 'redis://127.0.0.1:1/0', connectionTimeoutMs: 300, log: silent });
    brokers.push(b);
    await expect(b.connect()).rejects.toThrow(/not reachable after 300 ms/);
  });
});
