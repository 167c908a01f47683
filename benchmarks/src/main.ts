/**
 * `pnpm bench`: taskq vs BullMQ (and Python Celery) on the local Redis, and
 * taskq vs Celery vs raw amqplib on the local RabbitMQ, in one run.
 * Every measured side runs in its own child process (one per system, row and
 * run); each figure is the median of BENCH_RUNS runs. See ../README.md.
 *
 *   pnpm bench [--only redis|amqp]     BENCH_RUNS=5 BENCH_JOBS=20000 BENCH_RTT=1000 BENCH_WARMUP=5000
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { Queue } from 'bullmq';
import { type App, createApp } from '@taskq/core';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { deleteBenchKeys, PYTHON, peakRssOfPid, runChild, runTogether, startCeleryWorker, stopProcess } from './children.js';
import { PYTHON_DIR } from './children.js';
import { type ChildResult, type Job, rttWarmups, WARMUP } from './protocol.js';
import { connectionOf } from './roles/bullmq.js';
import { TASK_NAME } from './roles/taskq.js';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const RTT = Number(process.env.BENCH_RTT ?? 1000);
/** Python Celery drains a few hundred to a thousand jobs a second here: fewer jobs keep `pnpm bench` under ~10 minutes. */
const CELERY_JOBS = Number(process.env.BENCH_CELERY_JOBS ?? Math.min(JOBS, 5000));
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/8';
const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const onlyIdx = process.argv.indexOf('--only');
const ONLY = onlyIdx >= 0 ? process.argv[onlyIdx + 1] : process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== 'redis' && ONLY !== 'amqp') throw new Error(`--only takes redis or amqp, got ${ONLY}`);
/** BENCH_ROWS=e2e,drain10,rtt (one,bulk,drain1,drain10,drain100,e2e,e2e-cold,rtt,celery) and BENCH_SYSTEMS=taskq: a subset of the Redis rows, for quick before/after checks. */
const ROWS = process.env.BENCH_ROWS ? new Set(process.env.BENCH_ROWS.split(',')) : undefined;
const SYSTEMS = process.env.BENCH_SYSTEMS ? new Set(process.env.BENCH_SYSTEMS.split(',')) : undefined;
const wanted = (row: string): boolean => ROWS === undefined || ROWS.has(row);

/** The end-to-end row's name in each section (Celery's end-to-end lands in the same row). */
function e2eRow(section: 'Redis' | 'RabbitMQ'): string {
  return section === 'Redis' ? `end-to-end ${JOBS}: producer (100 in flight) + worker (concurrency 100)` : `end-to-end ${JOBS}: producer + worker (concurrency 100)`;
}

/** One measured figure of one run. */
interface Sample {
  value: number;
  rssMiB: number;
}
type Unit = 'jobs/s' | 'ms';
interface Row {
  section: 'Redis' | 'RabbitMQ';
  name: string;
  unit: Unit;
  /** system → samples */
  samples: Map<string, Sample[]>;
}

const rows: Row[] = [];
function record(section: Row['section'], name: string, unit: Unit, system: string, sample: Sample): void {
  let row = rows.find((r) => r.section === section && r.name === name);
  if (!row) {
    row = { section, name, unit, samples: new Map() };
    rows.push(row);
  }
  const list = row.samples.get(system) ?? [];
  list.push(sample);
  row.samples.set(system, list);
  const shown = unit === 'jobs/s' ? `${Math.round(sample.value)} jobs/s` : `${sample.value.toFixed(2)} ms`;
  process.stderr.write(`  ${section} · ${name} · ${system}: ${shown} (peak RSS ${sample.rssMiB.toFixed(0)} MiB)\n`);
}

const rate = (r: ChildResult): number => (r.count / r.ms) * 1000;
let seq = 0;
const qname = (tag: string): string => `bench-${tag}-${process.pid}-${seq++}`;

// ---- fills (in this process, not measured) ---------------------------------------------------

async function withTaskqApp<T>(url: string, queue: string, fn: (app: App) => Promise<T>): Promise<T> {
  const app = createApp({ name: 'bench-fill', brokerUrl: url, resultBackend: REDIS_URL, defaultQueue: queue, logger: undefined, env: { TASKQ_LOG_LEVEL: 'warn' } });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

async function fillTaskq(url: string, queue: string, n: number): Promise<string[]> {
  return withTaskqApp(url, queue, async (app) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 5000) {
      const batch = Array.from({ length: Math.min(5000, n - i) }, (_, k) => [i + k]);
      const results = await app.sendMany(TASK_NAME, batch);
      for (const r of results) ids.push(r.id);
    }
    return ids;
  });
}

async function fillBull(queue: string, n: number): Promise<void> {
  const q = new Queue(queue, { connection: connectionOf(REDIS_URL) });
  for (let i = 0; i < n; i += 5000) await q.addBulk(Array.from({ length: Math.min(5000, n - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
  await q.close();
}

// ---- Redis rows -----------------------------------------------------------------------------

/** A Redis row's child: it warms up first (WARMUP jobs on a side queue) unless `warmup` says otherwise. */
function job(system: Job['system'], role: Job['role'], queue: string, jobs: number, concurrency = 1, url = REDIS_URL, warmup = WARMUP): Job {
  return { system, role, url, backend: REDIS_URL, queue, jobs, concurrency, warmup };
}

/** Redis server CPU seconds so far (INFO cpu: used_cpu_user + used_cpu_sys). */
async function redisCpuMs(): Promise<number> {
  const r = new Redis(REDIS_URL);
  try {
    const info = await r.info('cpu');
    const get = (k: string): number => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return (get('used_cpu_user') + get('used_cpu_sys')) * 1000;
  } finally {
    r.disconnect();
  }
}

/** Where the CPU went in one row (stderr only): per 1,000 jobs, each child's and Redis' CPU time. */
function reportCpu(what: string, jobs: number, redisMs: number, ...children: Array<[string, ChildResult | undefined]>): void {
  const per = (ms: number | undefined): string => (ms === undefined ? '?' : `${((ms / jobs) * 1000).toFixed(0)} ms`);
  const gc = (c: ChildResult | undefined): string => (c?.gcMs === undefined ? '' : ` (gc pauses ${per(c.gcMs)})`);
  process.stderr.write(`    cpu per 1k jobs · ${what}: ${children.map(([n, c]) => `${n} ${per(c?.cpuMs)}${gc(c)}`).join(', ')}, redis ${per(redisMs)}\n`);
}

async function redisRun(): Promise<void> {
  for (const system of ['taskq', 'bullmq'] as const) {
    if (SYSTEMS && !SYSTEMS.has(system)) continue;
    const label = system === 'taskq' ? 'taskq' : 'BullMQ';
    let q: string;
    let r: ChildResult;
    if (wanted('one')) {
      q = qname('one');
      r = await runChild(job(system, 'enqueue-one', q, JOBS));
      record('Redis', `enqueue ${JOBS} one by one (all issued at once)`, 'jobs/s', label, { value: rate(r), rssMiB: r.rssMiB });
      await deleteBenchKeys(REDIS_URL);
    }

    if (wanted('bulk')) {
      q = qname('bulk');
      r = await runChild(job(system, 'enqueue-bulk', q, JOBS));
      record('Redis', `enqueue ${JOBS} in bulk (one call)`, 'jobs/s', label, { value: rate(r), rssMiB: r.rssMiB });
      await deleteBenchKeys(REDIS_URL);
    }

    for (const c of [1, 10, 100]) {
      if (!wanted(`drain${c}`)) continue;
      q = qname(`drain${c}`);
      if (system === 'taskq') await fillTaskq(REDIS_URL, q, JOBS);
      else await fillBull(q, JOBS);
      let cpu0 = 0;
      r = await runChild(job(system, 'drain', q, JOBS, c), async () => (cpu0 = await redisCpuMs()));
      reportCpu(`${system} drain c=${c}`, JOBS, (await redisCpuMs()) - cpu0, ['worker', r]);
      record('Redis', `drain ${JOBS}, concurrency ${c}, results stored`, 'jobs/s', label, { value: rate(r), rssMiB: r.rssMiB });
      await deleteBenchKeys(REDIS_URL);
    }

    if (wanted('e2e')) {
      q = qname('e2e');
      let cpu0 = 0;
      const [worker, producer] = await runTogether([job(system, 'drain', q, JOBS, 100), job(system, 'produce', q, JOBS)], async () => (cpu0 = await redisCpuMs()));
      reportCpu(`${system} e2e`, JOBS, (await redisCpuMs()) - cpu0, ['worker', worker], ['producer', producer]);
      record('Redis', e2eRow('Redis'), 'jobs/s', label, { value: rate(worker!), rssMiB: worker!.rssMiB });
      await deleteBenchKeys(REDIS_URL);
    }

    if (wanted('e2e-cold') && WARMUP > 0) {
      // The same, in processes that start cold: the JIT compiles the hot path inside the measured time.
      q = qname('e2e-cold');
      let cpu0 = 0;
      const [worker, producer] = await runTogether([job(system, 'drain', q, JOBS, 100, REDIS_URL, 0), job(system, 'produce', q, JOBS, 1, REDIS_URL, 0)], async () => (cpu0 = await redisCpuMs()));
      reportCpu(`${system} e2e cold`, JOBS, (await redisCpuMs()) - cpu0, ['worker', worker], ['producer', producer]);
      record('Redis', `${e2eRow('Redis')}, cold processes (no warm-up)`, 'jobs/s', label, { value: rate(worker!), rssMiB: worker!.rssMiB });
      await deleteBenchKeys(REDIS_URL);
    }

    if (wanted('rtt')) {
      q = qname('rtt');
      // The worker also runs the client's unmeasured round trips.
      const [w, client] = await runTogether([job(system, 'drain', q, RTT + rttWarmups(WARMUP), 10), job(system, 'rtt', q, RTT)]);
      record('Redis', `round trip p50 (${RTT} sequential delay + get)`, 'ms', label, { value: client!.p50!, rssMiB: w!.rssMiB });
      record('Redis', `round trip p99 (${RTT} sequential delay + get)`, 'ms', label, { value: client!.p99!, rssMiB: w!.rssMiB });
      await deleteBenchKeys(REDIS_URL);
    }
  }
}

// ---- Python Celery --------------------------------------------------------------------------

interface Meta {
  date_done: string | null;
}

/** Wait until every id has a stored result; throughput from the spread of their date_done. */
async function celeryThroughput(ids: string[], timeoutMs: number): Promise<number> {
  const { first, last } = await celeryDoneSpan(ids, timeoutMs);
  return ((ids.length - 1) / (last - first)) * 1000;
}

/** Wait until every id has a result; the first and last `date_done` (ms since the epoch). */
async function celeryDoneSpan(ids: string[], timeoutMs: number): Promise<{ first: number; last: number }> {
  const r = new Redis(REDIS_URL);
  try {
    const deadline = Date.now() + timeoutMs;
    const keys = ids.map((id) => `celery-task-meta-${id}`);
    for (;;) {
      const n = await r.exists(keys[keys.length - 1]!, ...keys.slice(0, 200));
      if (n === 201 || (keys.length <= 200 && n === keys.length)) {
        const all = await r.exists(...keys);
        if (all === keys.length) break;
      }
      if (Date.now() > deadline) throw new Error(`Celery did not finish ${ids.length} tasks in ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 250));
    }
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let i = 0; i < keys.length; i += 2000) {
      const texts = await r.mget(...keys.slice(i, i + 2000));
      for (const t of texts) {
        const done = Date.parse(`${(JSON.parse(t!) as Meta).date_done}Z`);
        if (done < min) min = done;
        if (done > max) max = done;
      }
    }
    return { first: min, last: max };
  } finally {
    r.disconnect();
  }
}

/**
 * Celery's pool per section: threads on Redis; on RabbitMQ its default prefork pool, because
 * Celery 5.2's threads pool with py-amqp drains only ~35–80 jobs/s there (solo: ~1,200/s,
 * prefork: ~650–950/s, measured on this machine) — a Celery problem, not a fair baseline.
 */
function celeryPool(section: Row['section']): { pool: 'threads' | 'prefork'; label: string } {
  return section === 'RabbitMQ' ? { pool: 'prefork', label: 'Celery (prefork, c=10)' } : { pool: 'threads', label: 'Celery (threads, c=10)' };
}

/** A Celery worker on queue `q` for the length of `measure`; the worker, its results and (on RabbitMQ) the queue removed afterwards. */
async function withCeleryWorker(
  section: Row['section'],
  brokerUrl: string,
  q: string,
  concurrency: number,
  measure: (label: string, worker: ChildProcess) => Promise<void>,
): Promise<void> {
  const { pool, label } = celeryPool(section);
  const w = startCeleryWorker({ CELERY_BROKER_URL: brokerUrl, CELERY_RESULT_BACKEND: REDIS_URL }, q, concurrency, pool);
  try {
    await measure(label, w);
  } finally {
    await stopProcess(w);
    await deleteBenchKeys(REDIS_URL);
    if (section === 'RabbitMQ') await deleteAmqpQueue(q);
  }
}

/** Run one of python/*.py against the queue; its last stdout line, parsed as JSON. */
function runPython<T>(script: string, args: string[], brokerUrl: string, q: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const p = spawn(PYTHON, [script, ...args], { cwd: PYTHON_DIR, env: { ...process.env, CELERY_BROKER_URL: brokerUrl, CELERY_RESULT_BACKEND: REDIS_URL, BENCH_QUEUE: q }, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d: Buffer) => {
      text += d.toString();
    });
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text.trim().split('\n').pop()!) as T) : reject(new Error(`${script} exited with ${code}`))));
  });
}

async function celeryDrain(section: Row['section'], brokerUrl: string, concurrency: number): Promise<void> {
  const q = qname('celery');
  const ids = await fillTaskq(brokerUrl, q, CELERY_JOBS);
  await withCeleryWorker(section, brokerUrl, q, concurrency, async (label, w) => {
    const value = await celeryThroughput(ids, 600_000);
    record(section, `drain ${JOBS}, concurrency ${concurrency}, results stored`, 'jobs/s', label, { value, rssMiB: peakRssOfPid(w.pid!) });
  });
}

/**
 * Celery end to end: a Celery worker (concurrency 10) running while a Python producer sends
 * the jobs one `apply_async` at a time; from the producer's first send to the last result.
 */
async function celeryE2e(section: Row['section'], brokerUrl: string): Promise<void> {
  const q = qname('celery-e2e');
  await withCeleryWorker(section, brokerUrl, q, 10, async (label, w) => {
    const prefix = `${q}-job`;
    const { start } = await runPython<{ start: number }>('produce.py', [String(CELERY_JOBS), prefix], brokerUrl, q);
    const ids = Array.from({ length: CELERY_JOBS }, (_, i) => `${prefix}-${i}`);
    const { last } = await celeryDoneSpan(ids, 600_000);
    const value = (CELERY_JOBS / (last - start * 1000)) * 1000;
    record(section, e2eRow(section), 'jobs/s', label, { value, rssMiB: peakRssOfPid(w.pid!) });
  });
}

async function celeryRtt(section: Row['section'], brokerUrl: string): Promise<void> {
  const q = qname('celery-rtt');
  await withCeleryWorker(section, brokerUrl, q, 10, async (label, w) => {
    const { p50, p99 } = await runPython<{ p50: number; p99: number }>('roundtrip.py', [String(RTT)], brokerUrl, q);
    const rssMiB = peakRssOfPid(w.pid!);
    record(section, `round trip p50 (${RTT} sequential delay + get)`, 'ms', label, { value: p50, rssMiB });
    record(section, `round trip p99 (${RTT} sequential delay + get)`, 'ms', label, { value: p99, rssMiB });
  });
}

// ---- RabbitMQ rows --------------------------------------------------------------------------

async function deleteAmqpQueue(queue: string): Promise<void> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    await ch.deleteQueue(queue);
    await ch.deleteExchange(queue).catch(() => {});
    await ch.close().catch(() => {});
  } finally {
    await conn.close().catch(() => {});
  }
}

async function amqpRun(): Promise<void> {
  // The RabbitMQ rows measure cold processes, as raw amqplib's role has no warm-up.
  const aj = (system: Job['system'], role: Job['role'], queue: string, jobs: number, c = 1): Job => job(system, role, queue, jobs, c, AMQP_URL, 0);
  // Drain of pre-filled queues, concurrency 10 (Celery's thread pool size), results stored in Redis.
  let q = qname('amqp-drain');
  await fillTaskq(AMQP_URL, q, JOBS);
  let r = await runChild(aj('taskq', 'drain', q, JOBS, 10));
  record('RabbitMQ', `drain ${JOBS}, concurrency 10, results stored`, 'jobs/s', 'taskq', { value: rate(r), rssMiB: r.rssMiB });
  await deleteAmqpQueue(q);
  await deleteBenchKeys(REDIS_URL);

  q = qname('amqp-raw');
  await runChild(aj('amqplib', 'produce', q, JOBS));
  r = await runChild(aj('amqplib', 'drain', q, JOBS, 10));
  record('RabbitMQ', `drain ${JOBS}, concurrency 10, results stored`, 'jobs/s', 'raw amqplib (no results)', { value: rate(r), rssMiB: r.rssMiB });
  await deleteAmqpQueue(q);

  q = qname('amqp-e2e');
  const [w] = await runTogether([aj('taskq', 'drain', q, JOBS, 100), aj('taskq', 'produce', q, JOBS)]);
  record('RabbitMQ', e2eRow('RabbitMQ'), 'jobs/s', 'taskq', { value: rate(w!), rssMiB: w!.rssMiB });
  await deleteAmqpQueue(q);
  await deleteBenchKeys(REDIS_URL);

  q = qname('amqp-raw-e2e');
  // The queue must exist before the consumer starts.
  await runChild(aj('amqplib', 'produce', q, 0));
  const [rw] = await runTogether([aj('amqplib', 'drain', q, JOBS, 100), aj('amqplib', 'produce', q, JOBS)]);
  record('RabbitMQ', e2eRow('RabbitMQ'), 'jobs/s', 'raw amqplib (no results)', { value: rate(rw!), rssMiB: rw!.rssMiB });
  await deleteAmqpQueue(q);

  q = qname('amqp-rtt');
  const [tw, client] = await runTogether([aj('taskq', 'drain', q, RTT + rttWarmups(0), 10), aj('taskq', 'rtt', q, RTT)]);
  record('RabbitMQ', `round trip p50 (${RTT} sequential delay + get)`, 'ms', 'taskq', { value: client!.p50!, rssMiB: tw!.rssMiB });
  record('RabbitMQ', `round trip p99 (${RTT} sequential delay + get)`, 'ms', 'taskq', { value: client!.p99!, rssMiB: tw!.rssMiB });
  await deleteAmqpQueue(q);
  await deleteBenchKeys(REDIS_URL);
}

// ---- table ----------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmt(v: number, unit: Unit): string {
  if (!Number.isFinite(v)) return '—';
  return unit === 'jobs/s' ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}

function table(): string {
  const out: string[] = [];
  for (const section of ['Redis', 'RabbitMQ'] as const) {
    const rs = rows.filter((r) => r.section === section);
    if (rs.length === 0) continue;
    const others = [...new Set(rs.flatMap((r) => [...r.samples.keys()]).filter((s) => s !== 'taskq'))];
    out.push(`### ${section}`, '');
    out.push(`| row | unit | taskq | ${others.join(' | ')} | ${others.map((o) => `taskq / ${o}`).join(' | ')} | peak RSS MiB (taskq${others.map((o) => ` / ${o}`).join('')}) |`);
    out.push(`|---|---|---:|${others.map(() => '---:|').join('')}${others.map(() => '---:|').join('')}---|`);
    for (const r of rs) {
      const med = (s: string): { v: number; rss: number } => {
        const xs = r.samples.get(s);
        return xs ? { v: median(xs.map((x) => x.value)), rss: median(xs.map((x) => x.rssMiB)) } : { v: Number.NaN, rss: Number.NaN };
      };
      const t = med('taskq');
      const cells = others.map((o) => fmt(med(o).v, r.unit));
      const ratios = others.map((o) => {
        const ratio = t.v / med(o).v;
        return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '—';
      });
      const rss = [t.rss, ...others.map((o) => med(o).rss)].map((x) => (Number.isFinite(x) ? x.toFixed(0) : '—')).join(' / ');
      out.push(`| ${r.name} | ${r.unit}${r.unit === 'ms' ? ' (lower is better)' : ''} | ${fmt(t.v, r.unit)} | ${cells.join(' | ')} | ${ratios.join(' | ')} | ${rss} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

function versions(): string {
  const req = createRequire(import.meta.url);
  const v = (p: string): string => (req(`${p}/package.json`) as { version: string }).version;
  let celery = '?';
  try {
    celery = execFileSync(PYTHON, ['-c', 'import celery,kombu;print(celery.__version__, "/ kombu", kombu.__version__)'], { encoding: 'utf8' }).trim();
  } catch {}
  return `Node ${process.version}, bullmq ${v('bullmq')}, ioredis ${v('ioredis')}, amqplib ${v('amqplib')}, Celery ${celery}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`;
}

async function main(): Promise<void> {
  const started = Date.now();
  process.stderr.write(`pnpm bench: ${RUNS} runs × ${JOBS} jobs, ${RTT} round trips; Redis ${REDIS_URL}, RabbitMQ ${AMQP_URL.replace(/\/\/[^@]*@/, '//***@')}\n`);
  await deleteBenchKeys(REDIS_URL);
  for (let run = 1; run <= RUNS; run++) {
    process.stderr.write(`run ${run}/${RUNS}\n`);
    if (ONLY !== 'amqp') {
      await redisRun();
      if (wanted('celery') && (!SYSTEMS || SYSTEMS.has('celery'))) {
        await celeryDrain('Redis', REDIS_URL, 10);
        await celeryE2e('Redis', REDIS_URL);
        await celeryRtt('Redis', REDIS_URL);
      }
    }
    if (ONLY !== 'redis') {
      await amqpRun();
      await celeryDrain('RabbitMQ', AMQP_URL, 10);
      await celeryE2e('RabbitMQ', AMQP_URL);
      await celeryRtt('RabbitMQ', AMQP_URL);
    }
  }
  const md = [
    `## pnpm bench — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `Medians of ${RUNS} runs, ${JOBS} no-op jobs per row (${RTT} for round trips; Celery drains ${CELERY_JOBS}, its throughput taken from the spread of its results' date_done). ${WARMUP > 0 ? `Each taskq and BullMQ child of the Redis rows first runs ${WARMUP} unmeasured jobs on a side queue (JIT warm-up; the round-trip client ${rttWarmups(WARMUP)} round trips); the "cold processes" row and the RabbitMQ rows do not.` : 'Cold processes: no warm-up.'} ${versions()}. Took ${Math.round((Date.now() - started) / 1000)} s.`,
    '',
    table(),
  ].join('\n');
  process.stdout.write(`${md}\n`);
  const here = dirname(fileURLToPath(import.meta.url));
  mkdirSync(join(here, '..', 'results'), { recursive: true });
  // A partial run (BENCH_ROWS / BENCH_SYSTEMS) does not replace the full table.
  if (!ROWS && !SYSTEMS) writeFileSync(join(here, '..', 'results', 'latest.md'), `${md}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
