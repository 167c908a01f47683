/**
 * Redis itself restarted under a running consumer and producer: both recover
 * on their own and nothing sent or unacknowledged is lost. Runs a private
 * redis-server (persistence on, so data survives the restart like a real
 * deployment) on a free port — the shared Redis is never touched.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTaskMessage } from '@taskq/core';
import { until } from '@taskq/core/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBroker, type RedisBroker } from '../../src/index.js';
import { silent } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'taskq-redis-restart-'));
let port = 0;
let server: ChildProcess | undefined;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

/** Start redis-server with an append-only file in `dir`; resolves when it accepts connections. */
async function startRedis(): Promise<void> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
  server = proc;
  await new Promise<void>((resolve, reject) => {
    proc.once('error', (e) => reject(new Error(`redis-server could not start (is it installed?): ${e.message}`)));
    proc.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve();
    });
  });
}

async function stopRedis(): Promise<void> {
  const proc = server;
  if (!proc || proc.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
});
afterAll(async () => {
  await stopRedis();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis restart', () => {
  it('consumer and producer recover on their own; every message is delivered, none left unacked', async () => {
    const url = `redis://127.0.0.1:${port}/0`;
    const producer: RedisBroker = createRedisBroker({ url, connectionTimeoutMs: 20_000, log: silent });
    const worker: RedisBroker = createRedisBroker({ url, log: silent });
    const seen = new Set<number>();
    const consumer = await worker.consume(['restart-q'], (d) => {
      seen.add(d.message.body[0][0] as number);
      void d.ack();
    }, { prefetch: 10 });
    const publishBatch = (from: number, count: number) =>
      Promise.all(Array.from({ length: count }, (_, i) => producer.publish(buildTaskMessage({ task: 'restart.t', args: [from + i] }), { queue: 'restart-q' })));

    await publishBatch(0, 50);
    await until(() => seen.size === 50, 10_000, 'the first 50');
    await stopRedis();
    // Published while Redis is down: waits for it (up to connectionTimeoutMs) instead of failing.
    const duringOutage = publishBatch(50, 50);
    await startRedis();
    await duringOutage;
    await publishBatch(100, 50);
    await until(() => seen.size === 150, 20_000, 'all 150 after the restart');
    await consumer.close();
    await Promise.all([producer.close(), worker.close()]);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i));
    const raw = new Redis(url);
    expect(await raw.hlen('unacked')).toBe(0);
    expect(await raw.llen('restart-q')).toBe(0);
    raw.disconnect();
  });
});
