/**
 * Profile taskq on RabbitMQ in this process (AMQP-specific; see profile.ts for Redis):
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx src/profile-amqp.ts drain 10 [redis|none|rpc]
 *   node --import tsx src/profile-amqp.ts produce 100
 *
 * With PROFILE_OUT=file.cpuprofile only the timed part is profiled (no --cpu-prof needed).
 *
 * `drain C R` fills BENCH_JOBS jobs (not timed), then drains them with a worker of
 * concurrency C; R is where results go: the Redis backend (default, as `pnpm bench`),
 * `none` (the task ignores its result: transport cost only) or `rpc` (rpc:// replies on
 * RabbitMQ). `produce W` times BENCH_JOBS individual `delay()` calls, W in flight.
 * `raw-publish [hmw]` publishes with raw amqplib, adding Celery's headers (h), mandatory (m), 100 in flight (w).
 * `work C` consumes BENCH_JOBS jobs as they arrive (start it, then `produce` with the same BENCH_QUEUE).
 * `rtt N` times N sequential `delay().get()` against a worker in this process.
 * `raw C` is `pnpm bench`'s raw amqplib ceiling (fill, then drain with prefetch 4 × C).
 * Each prints wall time and CPU per job of this process and of RabbitMQ.
 */
import { createApp } from '@taskq/core';
import { toFieldTable } from '@taskq/broker-amqp';
import { Worker } from '@taskq/worker';
import amqp from 'amqplib';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Redis } from 'ioredis';
import { prepare as prepareRaw } from './roles/amqplib.js';
import { until, windowed } from './protocol.js';

/**
 * Its own Redis db (not pnpm bench's db 8: a concurrent `pnpm bench` would lose its keys to this
 * script's clean-up); only `celery-task-meta-*` keys are deleted there afterwards.
 */
const REDIS_URL = process.env.BENCH_PROFILE_REDIS_URL ?? 'redis://127.0.0.1:6379/14';
const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const mode = process.argv[2] ?? 'drain';
const n = Number(process.argv[3] ?? 10);
const results = process.argv[4] ?? 'redis';
/** BENCH_QUEUE lets a `work` and a `produce` process share a queue (end-to-end, two processes). */
const queue = process.env.BENCH_QUEUE ?? `bench-profile-amqp-${process.pid}`;

/** CPU seconds used so far by RabbitMQ's Erlang VM (beam.smp), from /proc; NaN when not found. */
function rabbitCpuSeconds(): number {
  try {
    const pid = execFileSync('pgrep', ['-o', 'beam.smp'], { encoding: 'utf8' }).trim();
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Wall time plus this process's and RabbitMQ's CPU per job for the timed part. */
async function timed(fn: () => Promise<void>): Promise<string> {
  const c0 = process.cpuUsage();
  const r0 = rabbitCpuSeconds();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const rabbit = rabbitCpuSeconds() - r0;
  const perJob = (us: number): string => `${(us / JOBS).toFixed(1)} µs`;
  return `${ms.toFixed(0)} ms: ${Math.round((JOBS / ms) * 1000)} jobs/s; CPU per job: this process ${perJob(c.user + c.system)}, RabbitMQ ${perJob(rabbit * 1e6)}`;
}

const session = new Session();
async function profiled<T>(fn: () => Promise<T>): Promise<T> {
  const out = process.env.PROFILE_OUT;
  if (!out) return fn();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const value = await fn();
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(out, JSON.stringify(profile));
  return value;
}

const backend = results === 'rpc' ? 'rpc://' : REDIS_URL;
const app = createApp({ name: 'bench', brokerUrl: AMQP_URL, resultBackend: backend, defaultQueue: queue });
const noop = app.task('bench.noop', (i: number) => i, { ignoreResult: results === 'none' });
await app.getBroker();
await app.getBackend();

if (mode === 'raw') {
  // The raw amqplib ceiling of `pnpm bench` (roles/amqplib.ts), with the same CPU figures.
  const job = { system: 'amqplib', url: AMQP_URL, backend: REDIS_URL, queue, jobs: JOBS, concurrency: n, warmup: 0 } as const;
  const produce = await prepareRaw({ ...job, role: 'produce' });
  process.stderr.write(`raw amqplib published ${JOBS} (all at once) in ${await timed(async () => void (await produce()))}\n`);
  const drain = await prepareRaw({ ...job, role: 'drain' });
  const report = await profiled(() =>
    timed(async () => {
      await drain();
    }),
  );
  process.stderr.write(`raw amqplib drained ${JOBS} (prefetch ${4 * n}) in ${report}\n`);
  await app.close();
} else if (mode === 'rtt') {
  // Sequential delay + get against a worker (concurrency 10) in this same process.
  const worker = new Worker(app, { concurrency: 10, queues: [queue] });
  await worker.start();
  await (await noop.delay(-1)).get({ timeout: 60_000 });
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await (await noop.delay(i)).get({ timeout: 60_000 });
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  process.stderr.write(`round trip of ${n} (results ${results}): p50 ${samples[Math.floor(n / 2)]!.toFixed(2)} ms, p99 ${samples[Math.floor(n * 0.99)]!.toFixed(2)} ms\n`);
  await worker.stop();
  await app.close();
} else if (mode === 'raw-publish') {
  // What the raw ceiling leaves out, one factor at a time: publish BENCH_JOBS persistent messages with raw
  // amqplib, with (letters of argv[3]) h = Celery's 18 task headers, m = mandatory, w = 100 in flight (else all at once).
  const variant = process.argv[3] ?? '';
  const H = { lang: 'py', task: 'bench.noop', id: 'bd5c1c1a-5d4e-4a3e-9b1d-1a2b3c4d5e6f', shadow: null, eta: null, expires: null, group: null, group_index: null, retries: 0, timelimit: [null, null], root_id: 'bd5c1c1a-5d4e-4a3e-9b1d-1a2b3c4d5e6f', parent_id: null, argsrepr: '(0,)', kwargsrepr: '{}', origin: 'gen123@host', ignore_result: false, stamped_headers: null, stamps: {} };
  const body = Buffer.from(JSON.stringify([[0], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]));
  const c = await amqp.connect(AMQP_URL, { noDelay: true });
  const pc = await c.createConfirmChannel();
  await pc.assertQueue(queue, { durable: true });
  const options = { persistent: true, mandatory: variant.includes('m'), contentType: 'application/json', contentEncoding: 'utf-8', headers: variant.includes('h') ? toFieldTable(H) : { task: 'bench.noop', id: '1' } };
  const report = await timed(async () => {
    await windowed(JOBS, variant.includes('w') ? 100 : JOBS, () => new Promise<void>((resolve, reject) => pc.publish('', queue, body, options, (e) => (e ? reject(e) : resolve()))));
  });
  process.stderr.write(`raw amqplib published ${JOBS} (${variant || 'plain'}) in ${report}\n`);
  await c.close();
  await app.close();
} else if (mode === 'work') {
  // End-to-end's worker side: consume BENCH_JOBS jobs as a `produce` process (same BENCH_QUEUE) sends them.
  const worker = new Worker(app, { concurrency: n, queues: [queue] });
  await worker.start();
  let first = 0;
  const report = await profiled(() =>
    timed(async () => {
      await until(() => (worker.stats().processed['bench.noop'] ?? 0) >= 1);
      first = performance.now();
      await until(() => (worker.stats().processed['bench.noop'] ?? 0) >= JOBS);
    }),
  );
  process.stderr.write(`worked ${JOBS} (concurrency ${n}, results ${results}) in ${report}; from the first job ${Math.round(((JOBS - 1) / (performance.now() - first)) * 1000)} jobs/s\n`);
  await worker.stop();
  await app.close();
} else if (mode === 'produce') {
  const report = await profiled(() =>
    timed(async () => {
      await windowed(JOBS, n, (i) => noop.delay(i));
    }),
  );
  process.stderr.write(`published ${JOBS} (${n} in flight) in ${report}\n`);
  await app.close();
} else {
  for (let i = 0; i < JOBS; i += 5000) await app.sendMany(noop, Array.from({ length: Math.min(5000, JOBS - i) }, (_, k) => [i + k] as [number]));
  const worker = new Worker(app, { concurrency: n, queues: [queue] });
  const report = await profiled(() =>
    timed(async () => {
      await worker.start();
      await until(() => (worker.stats().processed['bench.noop'] ?? 0) >= JOBS);
    }),
  );
  await worker.stop();
  process.stderr.write(`drained ${JOBS} (concurrency ${n}, results ${results}) in ${report}\n`);
  await app.close();
}
if (mode === 'produce' && process.env.BENCH_QUEUE) process.exit(0); // the `work` process cleans up
const conn = await amqp.connect(AMQP_URL);
const ch = await conn.createChannel();
await ch.deleteQueue(queue);
await ch.deleteExchange(queue).catch(() => {});
await conn.close();
if (results !== 'rpc') await deleteResults(REDIS_URL);

async function deleteResults(url: string): Promise<void> {
  const r = new Redis(url);
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', 'celery-task-meta-*', 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await r.unlink(...keys);
  } while (cursor !== '0');
  r.disconnect();
}
process.exit(0);
