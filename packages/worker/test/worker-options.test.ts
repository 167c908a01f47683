import os from 'node:os';
import { ConfigError } from '@taskq/core';
import { createTestApp } from '@taskq/core/testing';
import { describe, expect, it } from 'vitest';
import { expandHostname, resolveWorkerOptions, Worker } from '../src/index.js';

describe('resolveWorkerOptions', () => {
  it('defaults to the default queue, concurrency 10, prefetch 10 × 4 and name@host', () => {
    const app = createTestApp({ name: 'proj' });
    const o = resolveWorkerOptions(app);
    expect(o).toMatchObject({ queues: ['celery'], concurrency: 10, prefetchMultiplier: 4, prefetch: 40, hostname: `proj@${os.hostname()}`, shutdownTimeout: 30 });
    expect(o.timeLimit).toBeUndefined();
    expect(o.softTimeLimit).toBeUndefined();
  });

  it("takes the prefetch multiplier from the app's configuration", () => {
    const app = createTestApp({ prefetchMultiplier: 1 });
    expect(resolveWorkerOptions(app, { concurrency: 3 }).prefetch).toBe(3);
  });

  it('treats a prefetch multiplier of 0 as unlimited prefetch', () => {
    expect(resolveWorkerOptions(createTestApp(), { prefetchMultiplier: 0 }).prefetch).toBe(0);
  });

  it('expands %h, %n and %d in the node name as Celery does', () => {
    expect(expandHostname('w1@%h', 'box.example.com')).toBe('w1@box.example.com');
    expect(expandHostname('%n-worker@%d', 'box.example.com')).toBe('box-worker@example.com');
    expect(expandHostname('100%%@%n', 'box')).toBe('100%@box');
  });

  it.each([
    [{ concurrency: 0 }, /concurrency/],
    [{ concurrency: 2.5 }, /concurrency/],
    [{ prefetchMultiplier: -1 }, /prefetchMultiplier/],
    [{ queues: [] }, /queues/],
    [{ queues: [''] }, /queues/],
    [{ timeLimit: 0 }, /timeLimit/],
    [{ softTimeLimit: -5 }, /softTimeLimit/],
    [{ shutdownTimeout: Number.NaN }, /shutdownTimeout/],
  ])('rejects %j with a ConfigError naming the option', (options, pattern) => {
    const attempt = () => resolveWorkerOptions(createTestApp(), options);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(pattern);
  });
});

describe('Worker lifecycle', () => {
  it('refuses to start twice', async () => {
    const worker = new Worker(createTestApp());
    await worker.start();
    try {
      await expect(worker.start()).rejects.toThrow(/already started/);
    } finally {
      await worker.stop();
    }
  });

  it('reports its node name, pid and uptime in stats()', async () => {
    const worker = new Worker(createTestApp(), { hostname: 'w1@%h' });
    expect(worker.stats()).toMatchObject({ hostname: `w1@${os.hostname()}`, pid: process.pid, uptime: 0, active: 0, reserved: 0, processed: {} });
    await worker.start();
    await worker.stop();
    expect(worker.hostname).toBe(`w1@${os.hostname()}`);
  });
});
