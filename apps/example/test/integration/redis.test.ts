/**
 * Across a process boundary over the real Redis (memory:// cannot cross
 * one): `taskq worker` runs the example's app module, and producers in other
 * processes send to it. Needs Redis at REDIS_URL or 127.0.0.1:6379, and fails
 * if it is not there. Uses db 11, which no other test file uses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type App, createApp } from '@taskq/core';
import { until } from '@taskq/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../src/contracts.js';
import { runProducer } from '../../src/producer.js';

const BROKER_URL = `${(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')}/11`;
const EXAMPLE_DIR = fileURLToPath(new URL('../../', import.meta.url));
const TASKQ_BIN = createRequire(import.meta.url).resolve('@taskq/cli/package.json').replace(/package\.json$/, 'bin/taskq.js');

function taskqEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('TASKQ_') || key.startsWith('CELERY_')) delete env[key];
  return { ...env, TASKQ_BROKER_URL: BROKER_URL };
}

function taskq(args: string[]): { child: ChildProcess; out: { stdout: string; stderr: string }; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [TASKQ_BIN, ...args], { cwd: EXAMPLE_DIR, env: taskqEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out.stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out.stderr += d;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  return { child, out, exited };
}

describe('the example over Redis, worker and producers in separate processes', () => {
  let worker: ReturnType<typeof taskq>;
  let producer: App;
  const sentIds: string[] = [];

  beforeAll(async () => {
    producer = createApp({ name: 'example-producer', brokerUrl: BROKER_URL });
    // Start from empty queues (an earlier, interrupted run may have left messages).
    const broker = await producer.getBroker();
    for (const queue of Object.values(QUEUES)) await broker.purge(queue);
    // `--app` is left out: apps/example's package.json names its app module.
    worker = taskq(['worker', '-Q', Object.values(QUEUES).join(','), '-c', '4']);
    await until(() => worker.out.stdout.includes('ready'), 20_000, `the worker to be ready (stderr: ${worker.out.stderr})`);
  });

  afterAll(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
    for (const id of sentIds) await producer.AsyncResult(id).forget();
    await producer.close();
  });

  it('`taskq call --wait` from another process gets the email receipt after the retry', async () => {
    const call = taskq(['call', 'email.send', '--args', '["grace@example.com", "Hi", "Hello"]', '--wait', '15']);
    expect(await call.exited).toBe(0);
    const [id, json] = call.out.stdout.trim().split('\n');
    sentIds.push(id!);
    expect(JSON.parse(json!)).toMatchObject({ to: 'grace@example.com', attempts: 2 });
  });

  it('`taskq result` in a third process reads the stored result', async () => {
    const id = sentIds[0]!;
    const result = taskq(['result', id]);
    expect(await result.exited).toBe(0);
    expect(result.out.stdout).toContain(`${id}: SUCCESS`);
  });

  it('a producer with only the contracts gets every result as intended', async () => {
    const outcomes = await runProducer(producer, (line) => {
      const id = /sent as (\S+)/.exec(line)?.[1];
      if (id) sentIds.push(id);
    });
    expect(outcomes.every((o) => o.asExpected)).toBe(true);
  });

  it('the worker exits 0 on SIGTERM', async () => {
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });
});
