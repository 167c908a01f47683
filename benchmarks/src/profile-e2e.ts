/**
 * Profile taskq's end-to-end row from the worker's side: `tsx src/profile-e2e.ts [out]`
 * runs the worker (concurrency 100) in this process, warms it up on BENCH_WARMUP jobs
 * (default 5000), then forks the benchmark's producer (100 in flight) and profiles the
 * worker while BENCH_JOBS jobs go through; prints the worker's CPU (user / system) and
 * GC pauses per job.
 * BENCH_PROFILE=0: no profile. BENCH_PROFILE=heap: a sampling heap profile (what is
 * allocated where; summarise with `tsx src/summarise-heap.ts out jobs`) instead of a CPU
 * profile (`tsx src/summarise-profile.ts out`).
 * Run node with --trace-gc-nvp to see each scavenge's survival figures.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createApp } from '@taskq/core';
import { Worker } from '@taskq/worker';
import { deleteBenchKeys, startChild } from './children.js';
import { meterGc } from './gc-meter.js';
import { until } from './protocol.js';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/8';
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000);
const mode = process.env.BENCH_PROFILE === '0' ? 'none' : process.env.BENCH_PROFILE === 'heap' ? 'heap' : 'cpu';
const queue = `bench-profile-e2e-${process.pid}`;

const app = createApp({ name: 'bench', brokerUrl: REDIS_URL, resultBackend: REDIS_URL, defaultQueue: queue, env: { ...process.env, TASKQ_LOG_LEVEL: 'warn' } });
app.task('bench.noop', (i: number) => i);
const worker = new Worker(app, { concurrency: 100, queues: [queue], prefetchMultiplier: Number(process.env.BENCH_PREFETCH_MULTIPLIER ?? 4) });
const processed = (): number => worker.stats().processed['bench.noop'] ?? 0;
await app.getBroker();
await app.getBackend();
// Warm-up (the JIT's): the worker drains WARMUP jobs sent in bulk before the measured run.
if (WARMUP > 0) await app.sendMany('bench.noop', Array.from({ length: WARMUP }, (_, i) => [i] as [number]));
await worker.start();
await until(() => processed() >= WARMUP);
const producer = startChild({ system: 'taskq', role: 'produce', url: REDIS_URL, backend: REDIS_URL, queue, jobs: JOBS, concurrency: 100, warmup: 0 });
await producer.ready;
const session = new Session();
if (mode !== 'none') session.connect();
if (mode === 'cpu') {
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
} else if (mode === 'heap') {
  await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
}
const stopGc = meterGc();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
producer.go();
await until(() => processed() >= WARMUP + JOBS);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const produced = await producer.result;
const out = process.argv[2] ?? `/tmp/e2e.${mode === 'heap' ? 'heapprofile' : 'cpuprofile'}`;
if (mode === 'cpu') writeFileSync(out, JSON.stringify((await session.post('Profiler.stop')).profile));
if (mode === 'heap') writeFileSync(out, JSON.stringify((await session.post('HeapProfiler.stopSampling')).profile));
const gc = await stopGc();
const per = (x: number): string => ((x / JOBS) * 1000).toFixed(1);
process.stderr.write(
  `worker CPU ${per((cpu.user + cpu.system) / 1000)} µs per job (user ${per(cpu.user / 1000)}, system ${per(cpu.system / 1000)}), GC pauses ${per(gc.ms)} µs per job (${gc.count}); producer CPU ${per(produced.cpuMs ?? Number.NaN)} µs per job\n`,
);
process.stderr.write(`end to end ${JOBS} in ${ms.toFixed(0)} ms: ${Math.round((JOBS / ms) * 1000)} jobs/s${mode === 'none' ? '' : `; profile in ${out}`}\n`);
await worker.stop();
await deleteBenchKeys(REDIS_URL);
process.exit(0);
