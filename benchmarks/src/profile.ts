/**
 * Profile one taskq row in this process: `tsx src/profile.ts drain 100 [out.cpuprofile]`
 * fills BENCH_JOBS jobs first, then drains them with the given concurrency with the
 * V8 profiler on (the drain only, not the fill); then
 * `tsx src/summarise-profile.ts out.cpuprofile` for the top self-time functions.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createApp } from '@taskq/core';
import { Worker } from '@taskq/worker';
import { deleteBenchKeys } from './children.js';
import { until } from './protocol.js';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/8';
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const concurrency = Number(process.argv[3] ?? 100);
const queue = `bench-profile-${process.pid}`;

const app = createApp({ name: 'bench', brokerUrl: REDIS_URL, resultBackend: REDIS_URL, defaultQueue: queue });
const noop = app.task('bench.noop', (i: number) => i);
await app.sendMany(noop, Array.from({ length: JOBS }, (_, i) => [i] as [number]));
const worker = new Worker(app, { concurrency, queues: [queue] });
// BENCH_PROFILE=0: measure the CPU per job without the profiler's own overhead.
const profiling = process.env.BENCH_PROFILE !== '0';
const session = new Session();
if (profiling) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await worker.start();
await until(() => (worker.stats().processed['bench.noop'] ?? 0) >= JOBS);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
if (profiling) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(process.argv[4] ?? '/tmp/drain.cpuprofile', JSON.stringify(profile));
}
process.stderr.write(`worker CPU ${(((cpu.user + cpu.system) / 1000 / JOBS) * 1000).toFixed(1)} µs per job\n`);
await worker.stop();
process.stderr.write(`drained ${JOBS} in ${ms.toFixed(0)} ms: ${Math.round((JOBS / ms) * 1000)} jobs/s\n`);
await deleteBenchKeys(REDIS_URL);
