/**
 * `taskq beat`: load the app, build a Beat with the chosen schedule store,
 * run it until SIGTERM/SIGINT. Also what `taskq worker --beat` embeds.
 */
import { pathToFileURL } from 'node:url';
import type { Beat, BeatOptions, BeatSchedule } from '@taskq/beat';
import { type App, ConfigError, type Logger, type LogLevel } from '@taskq/core';
import { importApp, locateApp } from '../load-app.js';
import { createCliLogger } from '../logger.js';
import { levelFlag, parseFlags, printedHelp, secondsFlag, stringFlag } from '../parse-flags.js';
import { UsageError } from '../usage.js';

const OPTIONS = {
  app: { type: 'string', short: 'A' },
  loglevel: { type: 'string', short: 'l' },
  'schedule-store': { type: 'string', short: 's' },
  timezone: { type: 'string' },
  'max-interval': { type: 'string' },
  'lock-ttl': { type: 'string' },
} as const;

/** Where the beat keeps its state: `file[:PATH]` or `redis[:PREFIX]`. */
export type StoreSpec = { kind: 'file'; path?: string } | { kind: 'redis'; prefix?: string };

/** Parse `--schedule-store` (`file`, `file:PATH`, `redis`, `redis:PREFIX`) of `command` (beat, or worker --beat). */
export function parseStoreSpec(text: string | undefined, command: 'beat' | 'worker' = 'beat'): StoreSpec {
  if (text === undefined || text === 'file') return { kind: 'file' };
  if (text.startsWith('file:') && text.length > 5) return { kind: 'file', path: text.slice(5) };
  if (text === 'redis') return { kind: 'redis' };
  if (text.startsWith('redis:') && !text.startsWith('redis://') && text.length > 6) return { kind: 'redis', prefix: text.slice(6) };
  throw new UsageError(`--schedule-store must be file, file:PATH, redis or redis:PREFIX; got ${JSON.stringify(text)}`, command);
}

/** The app module's `beatSchedule` export (Celery's config-module `beat_schedule`), if any: the module is already loaded, so this is its cached namespace. */
export async function moduleBeatSchedule(file: string): Promise<BeatSchedule | undefined> {
  const mod = (await import(pathToFileURL(file).href)) as { beatSchedule?: BeatSchedule };
  return mod.beatSchedule;
}

export interface BeatSetup {
  store: StoreSpec;
  timezone?: string;
  /** Seconds. */
  maxInterval?: number;
  /** Seconds (Redis store only). */
  lockTtl?: number;
  /** Extra entries (an app module's `beatSchedule` export). */
  schedule?: BeatSchedule;
}

/** Build the Beat for `app` (imports `@taskq/beat`, and `@taskq/beat/redis` only for the Redis store). */
export async function createBeat(app: App, setup: BeatSetup, logger: Logger): Promise<Beat> {
  const { Beat, FileScheduleStore } = await import('@taskq/beat');
  const options: BeatOptions = { logger };
  if (setup.schedule) options.schedule = setup.schedule;
  if (setup.timezone !== undefined) options.timezone = setup.timezone;
  if (setup.maxInterval !== undefined) options.maxInterval = setup.maxInterval;
  if (setup.store.kind === 'file') {
    options.store = new FileScheduleStore(setup.store.path, { logger });
  } else {
    const url = app.conf.brokerUrl;
    if (!/^rediss?:\/\//i.test(url)) {
      throw new ConfigError(
        `--schedule-store redis keeps the schedule in the app's broker, but the broker is ${url.split(':', 1)[0]}://; use a redis:// broker (TASKQ_BROKER_URL) or --schedule-store file:PATH`,
      );
    }
    let redisModule: typeof import('@taskq/beat/redis');
    try {
      redisModule = await import('@taskq/beat/redis');
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'ERR_MODULE_NOT_FOUND' || !String(error).includes('ioredis')) throw error;
      throw new ConfigError('--schedule-store redis needs ioredis, which is not installed: run `pnpm add ioredis` in your app', { cause: error });
    }
    const state = redisModule.createRedisBeatState({
      url,
      prefix: setup.store.prefix ?? `${redisModule.DEFAULT_REDIS_PREFIX}:${app.name}`,
      ...(setup.lockTtl !== undefined ? { lockTtl: setup.lockTtl } : {}),
    });
    options.store = state.store;
    options.lock = state.lock;
  }
  return new Beat(app, options);
}

/** Run `taskq beat`; resolves with the exit code once the beat has stopped. */
export async function beatCommand(argv: string[]): Promise<number> {
  const flags = parseFlags('beat', argv, OPTIONS, 0);
  if (printedHelp('beat', flags)) return 0;
  const level: LogLevel = levelFlag('beat', flags, 'loglevel') ?? 'info';
  const store = parseStoreSpec(stringFlag(flags, 'schedule-store'));
  const maxInterval = positiveSeconds(flags, 'max-interval');
  const lockTtl = positiveSeconds(flags, 'lock-ttl');
  if (lockTtl !== undefined && store.kind !== 'redis') throw new UsageError('--lock-ttl needs --schedule-store redis (only the Redis store has a leader lock)', 'beat');
  const timezone = stringFlag(flags, 'timezone');

  const location = locateApp(stringFlag(flags, 'app'), process.cwd());
  if (!location) {
    throw new UsageError('no app: pass --app <module> (e.g. --app ./src/app.ts), or set "taskq": { "app": "./src/app.ts" } in package.json', 'beat');
  }
  const app = await importApp(location);
  // Celery's config-module style: the app module may export `beatSchedule` (its `beat_schedule`).
  const beatSchedule = await moduleBeatSchedule(location.file);
  app.log.level = level;
  const logger = createCliLogger(level).child({ component: 'beat' });

  const setup: BeatSetup = { store };
  if (beatSchedule !== undefined) setup.schedule = beatSchedule;
  if (timezone !== undefined) setup.timezone = timezone;
  if (maxInterval !== undefined) setup.maxInterval = maxInterval;
  if (lockTtl !== undefined) setup.lockTtl = lockTtl;
  const beat = await createBeat(app, setup, logger);

  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'beat: second signal, exiting now');
      process.exit(1);
    }
    logger.info({ signal }, 'beat: stopping');
    stopping = beat.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // The beat's timers keep Node alive while it sleeps, but a memory:// broker holds no socket: hold the process until stopped.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  try {
    await beat.start();
    await beat.stopped;
    await stopping;
    logger.info('beat: stopped');
  } finally {
    clearInterval(keepAlive);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await beat.stop().catch(() => {});
    await app.close();
  }
  return 0;
}

function positiveSeconds(flags: Parameters<typeof secondsFlag>[1], name: string): number | undefined {
  const v = secondsFlag('beat', flags, name);
  if (v === 0) throw new UsageError(`--${name} must be more than 0 seconds`, 'beat');
  return v;
}
