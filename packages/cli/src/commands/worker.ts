/** `taskq worker`: parse flags, load the app, run a Worker until a signal stops it. */
import { isIP } from 'node:net';
import type { App, Logger, LogLevel } from '@taskq/core';
import type { WorkerOptions } from '@taskq/worker';
import { importApp, locateApp } from '../load-app.js';
import { createCliLogger } from '../logger.js';
import { intFlag, levelFlag, listFlag, parseFlags, printedHelp, secondsFlag, stringFlag } from '../parse-flags.js';
import { UsageError } from '../usage.js';

const OPTIONS = {
  app: { type: 'string', short: 'A' },
  queues: { type: 'string', short: 'Q' },
  concurrency: { type: 'string', short: 'c' },
  loglevel: { type: 'string', short: 'l' },
  hostname: { type: 'string', short: 'n' },
  'prefetch-multiplier': { type: 'string' },
  'time-limit': { type: 'string' },
  'soft-time-limit': { type: 'string' },
  pool: { type: 'string', short: 'P' },
  'max-tasks-per-child': { type: 'string' },
  'max-memory-per-child': { type: 'string' },
  autoscale: { type: 'string' },
  optimization: { type: 'string', short: 'O' },
  statedb: { type: 'string', short: 'S' },
  beat: { type: 'boolean', short: 'B' },
  'schedule-store': { type: 'string', short: 's' },
  'task-events': { type: 'boolean', short: 'E' },
  'without-heartbeat': { type: 'boolean' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
} as const;

const POOLS = ['async', 'threads', 'process', 'solo', 'prefork', 'eventlet', 'gevent'] as const;

/** Run `taskq worker`; resolves with the exit code once the worker has stopped. */
export async function workerCommand(argv: string[]): Promise<number> {
  const flags = parseFlags('worker', argv, OPTIONS, 0);
  if (printedHelp('worker', flags)) return 0;
  const level: LogLevel = levelFlag('worker', flags, 'loglevel') ?? 'info';
  const options: WorkerOptions = {};
  const queues = listFlag('worker', flags, 'queues');
  if (queues) options.queues = queues;
  const concurrency = intFlag('worker', flags, 'concurrency', 1);
  if (concurrency !== undefined) options.concurrency = concurrency;
  const prefetch = intFlag('worker', flags, 'prefetch-multiplier', 0);
  if (prefetch !== undefined) options.prefetchMultiplier = prefetch;
  const hostname = stringFlag(flags, 'hostname');
  if (hostname !== undefined) options.hostname = hostname;
  const timeLimit = secondsFlag('worker', flags, 'time-limit');
  if (timeLimit !== undefined) options.timeLimit = timeLimit;
  const softTimeLimit = secondsFlag('worker', flags, 'soft-time-limit');
  if (softTimeLimit !== undefined) options.softTimeLimit = softTimeLimit;

  const pool = stringFlag(flags, 'pool');
  if (pool !== undefined) {
    if (!(POOLS as readonly string[]).includes(pool)) throw new UsageError(`--pool must be one of ${POOLS.join(', ')}; got ${JSON.stringify(pool)}`, 'worker');
    options.pool = pool as (typeof POOLS)[number];
  }
  const maxTasks = intFlag('worker', flags, 'max-tasks-per-child', 1);
  if (maxTasks !== undefined) options.maxTasksPerChild = maxTasks;
  const maxMemory = intFlag('worker', flags, 'max-memory-per-child', 1);
  if (maxMemory !== undefined) options.maxMemoryPerChild = maxMemory;
  const autoscale = stringFlag(flags, 'autoscale');
  if (autoscale !== undefined) options.autoscale = autoscaleFlag(autoscale);
  const optimization = stringFlag(flags, 'optimization');
  if (optimization !== undefined) {
    if (optimization !== 'fair' && optimization !== 'default') throw new UsageError(`-O/--optimization must be fair or default, got ${JSON.stringify(optimization)}`, 'worker');
    options.optimization = optimization;
  }
  const statedb = stringFlag(flags, 'statedb');
  if (statedb !== undefined) options.statedb = statedb;
  if (flags.values['task-events']) options.sendTaskEvents = true;
  if (flags.values['without-heartbeat']) options.heartbeat = false;
  const metricsPort = intFlag('worker', flags, 'metrics-port', 0, 65535);
  if (metricsPort !== undefined) options.metricsPort = metricsPort;
  const metricsHost = stringFlag(flags, 'metrics-host');
  if (metricsHost !== undefined) {
    if (isIP(metricsHost) === 0) throw new UsageError(`--metrics-host must be an IP address (e.g. 127.0.0.1 or 0.0.0.0), got ${JSON.stringify(metricsHost)}`, 'worker');
    options.metricsHost = metricsHost;
  }

  const scheduleStore = stringFlag(flags, 'schedule-store');
  if (scheduleStore !== undefined && !flags.values.beat) throw new UsageError('--schedule-store is for the beat that --beat runs inside the worker: add --beat, or run `taskq beat`', 'worker');
  const { parseStoreSpec } = await import('./beat.js');
  const store = parseStoreSpec(scheduleStore, 'worker');

  const location = locateApp(stringFlag(flags, 'app'), process.cwd());
  if (!location) {
    throw new UsageError('no app: pass --app <module> (e.g. --app ./src/app.ts), or set "taskq": { "app": "./src/app.ts" } in package.json', 'worker');
  }
  const app = await importApp(location);
  // The threads and process pools load the same module in each thread/child.
  options.appModule = location.file;
  // The app's own logger (used by ctx.log in tasks) follows -l too.
  app.log.level = level;
  options.logger = createCliLogger(level);

  // Imported here so `taskq call` and `taskq result` never load the worker.
  const { Worker } = await import('@taskq/worker');
  const worker = new Worker(app, options);
  // Handlers go in before start(): a SIGTERM that arrives while the worker
  // connects, or right after it says "ready", must stop it, not kill it.
  const uninstall = worker.installSignalHandlers();
  let beat: import('@taskq/beat').Beat | undefined;
  try {
    // Built before the worker starts, so a bad schedule or store (a Redis store on another broker) fails before any task is taken.
    if (flags.values.beat) beat = await embeddedBeat(app, location.file, store, options.logger);
    await worker.start();
    await beat?.start();
  } catch (error) {
    uninstall();
    await beat?.stop().catch(() => {});
    await worker.stop().catch(() => {});
    await app.close();
    throw error;
  }
  // An in-process transport (memory://) holds no socket open, and a pending
  // promise alone does not keep Node running: hold the process until stopped.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  try {
    await worker.stopped;
  } finally {
    clearInterval(keepAlive);
    await beat?.stop();
    await app.close();
  }
  return 0;
}

/** `--autoscale max,min` (Celery's order); a single number is max with min 0. */
function autoscaleFlag(text: string): [number, number] {
  const parts = text.split(',').map((p) => p.trim());
  const nums = parts.map(Number);
  const [max, min = 0] = nums;
  if (parts.length > 2 || !nums.every((n) => Number.isInteger(n) && n >= 0) || max === undefined || max < 1 || min > max) {
    throw new UsageError(`--autoscale must be max,min with whole numbers and 1 <= max, min <= max (e.g. --autoscale 10,3), got ${JSON.stringify(text)}`, 'worker');
  }
  return [max, min];
}

/**
 * `--beat`: the scheduler inside the worker (Celery's `worker -B`), with the
 * app module's schedules (`beatSchedule` export included). With the file store
 * every worker started so would send every periodic task: development only.
 * With `--schedule-store redis` the workers' beats elect one leader, which sends.
 */
async function embeddedBeat(app: App, appFile: string, store: import('./beat.js').StoreSpec, logger: Logger): Promise<import('@taskq/beat').Beat> {
  const { createBeat, moduleBeatSchedule } = await import('./beat.js');
  const beatLogger = logger.child({ component: 'beat' });
  if (store.kind === 'file') {
    beatLogger.warn(
      '--beat runs the periodic task scheduler inside this worker: fine for development, not for production. Run `taskq beat` as its own process; workers started with --beat would each send every periodic task (or use --schedule-store redis: their beats elect one leader).',
    );
  } else {
    beatLogger.info('--beat with --schedule-store redis: the beats of all workers started so elect one leader, which sends the periodic tasks');
  }
  const schedule = await moduleBeatSchedule(appFile);
  return createBeat(app, schedule === undefined ? { store } : { store, schedule }, beatLogger);
}
