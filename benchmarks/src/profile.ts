/**
 * Profile one taskq row in this process: `node --cpu-prof --import tsx src/profile.ts drain 100`
 * (fills BENCH_JOBS jobs first, then drains them with the given concurrency), then
 * `tsx src/summarise-profile.ts CPU.*.cpuprofile` for the top self-time functions.
 */
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
const t0 = performance.now();
await worker.start();
await until(() => (worker.stats().processed['bench.noop'] ?? 0) >= JOBS);
const ms = performance.now() - t0;
await worker.stop();
process.stderr.write(`drained ${JOBS} in ${ms.toFixed(0)} ms: ${Math.round((JOBS / ms) * 1000)} jobs/s\n`);
await deleteBenchKeys(REDIS_URL);
