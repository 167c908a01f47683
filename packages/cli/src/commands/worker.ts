/** `taskq worker`: parse flags, load the app, run a Worker until a signal stops it. */
import type { App, Logger, LogLevel } from '@taskq/core';
import type { WorkerOptions } from '@taskq/worker';
import { loadApp } from '../load-app.js';
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
  beat: { type: 'boolean', short: 'B' },
} as const;

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

  const app = await loadApp(stringFlag(flags, 'app'));
  if (!app) {
    throw new UsageError('no app: pass --app <module> (e.g. --app ./src/app.ts), or set "taskq": { "app": "./src/app.ts" } in package.json', 'worker');
  }
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
    await worker.start();
    if (flags.values.beat) beat = await startEmbeddedBeat(app, options.logger);
  } catch (error) {
    uninstall();
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

/** `--beat`: the scheduler inside the worker, with the default file store (as Celery's `worker -B`). */
async function startEmbeddedBeat(app: App, logger: Logger): Promise<import('@taskq/beat').Beat> {
  const { createBeat } = await import('./beat.js');
  const beatLogger = logger.child({ component: 'beat' });
  beatLogger.warn(
    '--beat runs the periodic task scheduler inside this worker: fine for development, not for production. Run `taskq beat` as its own process; workers started with --beat would each send every periodic task.',
  );
  const beat = await createBeat(app, { store: { kind: 'file' } }, beatLogger);
  await beat.start();
  return beat;
}
