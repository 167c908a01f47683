/**
 * A result wait survives a Redis that is unreachable when it starts: a wait
 * with a timeout ends with TimeoutError, one without keeps waiting and gets
 * its result once Redis is back (the key is subscribed again and re-read),
 * and a later waiter on the same key is subscribed too. Redis is made
 * unreachable with a local TCP proxy that this file starts and stops.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { type ResultMeta, TimeoutError } from '@taskq/core';
import { until } from '@taskq/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisResultBackend, type RedisResultBackend } from '../../src/index.js';
import { REDIS_URL, rawClient, silent, urlFor } from './helpers.js';

const DB = 14;
const target = new URL(REDIS_URL);
let raw: Redis;
const ids: string[] = [];
const sockets = new Set<Socket>();
let proxy: Server | undefined;
const backends: RedisResultBackend[] = [];

const meta = (id: string, result: unknown): ResultMeta => ({ status: 'SUCCESS', result, traceback: null, children: [], date_done: null, task_id: id });

/** A port nothing listens on yet. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Start forwarding `port` to the test Redis ("Redis is back"). */
async function startProxy(port: number): Promise<void> {
  proxy = createServer((client) => {
    const upstream = tcpConnect(Number(target.port || 6379), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => proxy!.listen(port, '127.0.0.1', r));
}

/** Resolve once `backend` answers a read (each try waits up to its connection timeout). */
async function reachable(backend: RedisResultBackend): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await backend.get('reachable-probe');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

beforeAll(async () => {
  raw = await rawClient(DB);
});
afterAll(async () => {
  for (const b of backends) await b.close();
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
  if (ids.length > 0) await raw.del(...ids.map((id) => `celery-task-meta-${id}`));
  raw.disconnect();
});

describe('result waits while Redis is unreachable', () => {
  it('gets the result of a wait without timeout whose subscribe failed, once Redis is back; so does a later waiter on the same key', async () => {
    const port = await freePort();
    const backend = createRedisResultBackend({ url: `redis://127.0.0.1:${port}/${DB}`, connectionTimeoutMs: 200, log: silent });
    backends.push(backend);
    const id = randomUUID();
    const other = randomUUID();
    ids.push(id);
    let first: ResultMeta | undefined;
    void backend.wait(id, { timeoutMs: Number.POSITIVE_INFINITY }).then((m) => {
      first = m;
    });
    // A finite wait ends with TimeoutError; it outlasts the 200 ms the first waiter's subscribe had.
    await expect(backend.wait(other, { timeoutMs: 400 })).rejects.toBeInstanceOf(TimeoutError);

    await startProxy(port);
    let second: ResultMeta | undefined;
    void backend.wait(id, { timeoutMs: Number.POSITIVE_INFINITY }).then((m) => {
      second = m;
    });
    const writer = createRedisResultBackend({ url: urlFor(DB), log: silent });
    backends.push(writer);
    // Stored once the backend is connected again, so only a fresh subscription (or a re-read) can deliver it.
    await reachable(backend);
    await writer.store(id, meta(id, 42));
    await until(() => first !== undefined && second !== undefined, 10_000, 'both waiters to get the result');
    expect(first!.result).toBe(42);
    expect(second!.result).toBe(42);
  });
});
