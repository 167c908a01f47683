/**
 * High availability on real Redis, through the CLI as a user runs it: two
 * `taskq beat` processes share the Redis store; one leads and sends; SIGKILL
 * it and the other takes over (lock TTL 2 s) — and no tick is sent twice.
 * Ticks are read straight from the queue nobody consumes: kombu's envelope
 * is JSON whose `headers` carry the beat's `taskq_beat_slot`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { until } from '@taskq/core/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REDIS_URL = 'redis://127.0.0.1:6379/10';
const CLI = fileURLToPath(new URL('../../cli/bin/taskq.js', import.meta.url));
const APP = fileURLToPath(new URL('./fixtures/ha-app.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

interface BeatProcess {
  name: string;
  child: ChildProcess;
  output(): string;
}

function startBeat(name: string, prefix: string, queue: string): BeatProcess {
  const child = spawn(process.execPath, [CLI, 'beat', '--app', APP, '-l', 'info', '--schedule-store', `redis:${prefix}`, '--lock-ttl', '2'], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, TASKQ_BROKER_URL: REDIS_URL, TASKQ_RESULT_BACKEND: REDIS_URL, HA_QUEUE: queue },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return { name, child, output: () => out };
}

const isLeader = (p: BeatProcess): boolean => p.output().includes('this process is now the leader');

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

describe('two taskq beat processes on the Redis store', () => {
  const prefix = `taskq-beat-ha-${randomUUID()}`;
  const queue = `beat-ha-${randomUUID()}`;
  let redis: Redis;
  const beats: BeatProcess[] = [];

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.ping(); // no Redis: fail here, never skip
  });
  afterAll(async () => {
    for (const b of beats) b.child.kill('SIGKILL');
    await Promise.all(beats.map((b) => exited(b.child)));
    const keys = await redis.keys(`${prefix}:*`);
    await redis.del(queue, ...keys);
    await redis.quit();
  });

  /** The slot of every message in the queue, oldest first. */
  async function slots(): Promise<string[]> {
    const raw = await redis.lrange(queue, 0, -1);
    return raw.reverse().map((m) => (JSON.parse(m) as { headers: { taskq_beat_slot: string } }).headers.taskq_beat_slot);
  }

  async function waitForTicks(min: number, what: string): Promise<string[]> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = await slots();
      if (found.length >= min) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${found.length} ticks so far)`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('elects one sender; when it is killed the other takes over, and no tick is sent twice', async () => {
    beats.push(startBeat('a', prefix, queue), startBeat('b', prefix, queue));
    await until(() => beats.some(isLeader), 20_000, 'a leader');
    const leader = beats.find(isLeader)!;
    const standby = beats.find((b) => b !== leader)!;
    await until(() => standby.output().includes('beat: starting'), 20_000, 'the standby to start');

    await waitForTicks(3, 'three ticks from the leader');
    expect(isLeader(standby)).toBe(false);

    leader.child.kill('SIGKILL');
    await exited(leader.child);
    const sentByLeader = (await slots()).length;

    await until(() => isLeader(standby), 20_000, 'the standby to take over');
    const all = await waitForTicks(sentByLeader + 3, 'three ticks from the new leader');

    const counts = new Map<string, number>();
    for (const s of all) counts.set(s, (counts.get(s) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
    expect([...all].sort()).toEqual(all); // in slot order, across the handover
  });
});
