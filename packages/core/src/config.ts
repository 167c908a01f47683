/**
 * App configuration: explicit options first, then the environment
 * (`TASKQ_*`, then Celery's `CELERY_*`), then defaults. The table of taskq
 * names and the Celery settings they mirror is in the core README.
 */
import { ConfigError } from './errors.js';

export interface AppConfig {
  /** App name, used in logs and as the default for worker names. */
  name: string;
  /** Broker URL (`memory://`, `redis://…`, `amqp://…`). Env: TASKQ_BROKER_URL, CELERY_BROKER_URL. */
  brokerUrl: string;
  /** Result backend URL. Env: TASKQ_RESULT_BACKEND, CELERY_RESULT_BACKEND. Default: the broker's scheme when it has a backend, else memory://. */
  resultBackend: string;
  /** Queue of tasks sent without one (`task_default_queue`). */
  defaultQueue: string;
  /** Seconds a stored result lives (`result_expires`, default 1 day). */
  resultExpires: number;
  /** Store name, args, kwargs, worker, retries and queue with results (`result_extended`). */
  resultExtended: boolean;
  /** Run tasks in the caller instead of sending them (`task_always_eager`), for tests. */
  taskAlwaysEager: boolean;
  /** In eager mode, throw a task's failure from `applyAsync` itself (`task_eager_propagates`). */
  taskEagerPropagates: boolean;
  /** Acknowledge after the task ran (`task_acks_late`). */
  taskAcksLate: boolean;
  /** Store STARTED when a task starts (`task_track_started`). */
  taskTrackStarted: boolean;
  /** Worker prefetch per unit of concurrency (`worker_prefetch_multiplier`, default 4). */
  prefetchMultiplier: number;
  /** Transport options, passed to the transport as is (`broker_transport_options`). */
  brokerTransportOptions: Record<string, unknown>;
  /** Milliseconds a publish may wait for an unreachable broker before failing (`broker_connection_timeout`). */
  brokerConnectionTimeout: number;
  /** Workers send task events (`worker_send_task_events`, `celery worker -E`). Env: TASKQ_WORKER_SEND_TASK_EVENTS, CELERY_WORKER_SEND_TASK_EVENTS. */
  workerSendTaskEvents: boolean;
  /** Send a `task-sent` event for each task sent (`task_send_sent_event`). Env: TASKQ_TASK_SEND_SENT_EVENT, CELERY_TASK_SEND_SENT_EVENT. */
  taskSendSentEvent: boolean;
}

export type AppConfigInput = Partial<AppConfig>;

export type Env = Record<string, string | undefined>;

const BOOL_TRUE = new Set(['1', 'true', 'yes', 'on']);
const BOOL_FALSE = new Set(['0', 'false', 'no', 'off', '']);

function envString(env: Env, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

function envBool(env: Env, ...names: string[]): boolean | undefined {
  const v = envString(env, ...names);
  if (v === undefined) return undefined;
  const l = v.toLowerCase();
  if (BOOL_TRUE.has(l)) return true;
  if (BOOL_FALSE.has(l)) return false;
  throw new ConfigError(`${names[0]}=${JSON.stringify(v)} is not a boolean; use 1/0, true/false`);
}

function envNumber(env: Env, ...names: string[]): number | undefined {
  const v = envString(env, ...names);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(`${names[0]}=${JSON.stringify(v)} is not a number`);
  return n;
}

/** Schemes whose transport package also provides a result backend of the same scheme. */
const SCHEMES_WITH_BACKEND = new Set(['memory', 'redis', 'rediss', 'redis+socket', 'sentinel']);

export function resolveConfig(input: AppConfigInput, env: Env): AppConfig {
  const brokerUrl = input.brokerUrl ?? envString(env, 'TASKQ_BROKER_URL', 'CELERY_BROKER_URL') ?? 'memory://';
  const brokerScheme = brokerUrl.split(':', 1)[0]!.toLowerCase();
  const resultBackend =
    input.resultBackend ??
    envString(env, 'TASKQ_RESULT_BACKEND', 'CELERY_RESULT_BACKEND') ??
    (SCHEMES_WITH_BACKEND.has(brokerScheme) ? brokerUrl : brokerScheme === 'amqp' || brokerScheme === 'amqps' || brokerScheme === 'pyamqp' ? 'rpc://' : 'memory://');
  const config: AppConfig = {
    name: input.name ?? envString(env, 'TASKQ_APP_NAME') ?? 'taskq',
    brokerUrl,
    resultBackend,
    defaultQueue: input.defaultQueue ?? envString(env, 'TASKQ_DEFAULT_QUEUE', 'CELERY_DEFAULT_QUEUE') ?? 'celery',
    resultExpires: input.resultExpires ?? envNumber(env, 'TASKQ_RESULT_EXPIRES', 'CELERY_RESULT_EXPIRES') ?? 86_400,
    resultExtended: input.resultExtended ?? envBool(env, 'TASKQ_RESULT_EXTENDED', 'CELERY_RESULT_EXTENDED') ?? false,
    taskAlwaysEager: input.taskAlwaysEager ?? envBool(env, 'TASKQ_TASK_ALWAYS_EAGER', 'CELERY_TASK_ALWAYS_EAGER') ?? false,
    taskEagerPropagates: input.taskEagerPropagates ?? envBool(env, 'TASKQ_TASK_EAGER_PROPAGATES') ?? false,
    taskAcksLate: input.taskAcksLate ?? envBool(env, 'TASKQ_TASK_ACKS_LATE', 'CELERY_ACKS_LATE') ?? false,
    taskTrackStarted: input.taskTrackStarted ?? envBool(env, 'TASKQ_TASK_TRACK_STARTED') ?? false,
    prefetchMultiplier: input.prefetchMultiplier ?? envNumber(env, 'TASKQ_PREFETCH_MULTIPLIER') ?? 4,
    brokerTransportOptions: input.brokerTransportOptions ?? {},
    brokerConnectionTimeout: input.brokerConnectionTimeout ?? envNumber(env, 'TASKQ_BROKER_CONNECTION_TIMEOUT') ?? 10_000,
    workerSendTaskEvents: input.workerSendTaskEvents ?? envBool(env, 'TASKQ_WORKER_SEND_TASK_EVENTS', 'CELERY_WORKER_SEND_TASK_EVENTS') ?? false,
    taskSendSentEvent: input.taskSendSentEvent ?? envBool(env, 'TASKQ_TASK_SEND_SENT_EVENT', 'CELERY_TASK_SEND_SENT_EVENT') ?? false,
  };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(config.brokerUrl)) {
    throw new ConfigError(`broker URL ${JSON.stringify(redactUrl(config.brokerUrl))} has no scheme; use e.g. memory://, redis://localhost:6379/0 or amqp://guest:guest@localhost:5672//`);
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(config.resultBackend)) {
    throw new ConfigError(`result backend ${JSON.stringify(redactUrl(config.resultBackend))} has no scheme; use e.g. memory://, redis://localhost:6379/0 or rpc://`);
  }
  if (!(config.prefetchMultiplier >= 0)) throw new ConfigError(`prefetchMultiplier must be >= 0, got ${config.prefetchMultiplier}`);
  if (!(config.resultExpires >= 0)) throw new ConfigError(`resultExpires must be >= 0 seconds, got ${config.resultExpires}`);
  if (!(config.brokerConnectionTimeout >= 0)) {
    throw new ConfigError(`brokerConnectionTimeout must be >= 0 milliseconds, got ${config.brokerConnectionTimeout}`);
  }
  return config;
}

/** The URL with its password replaced by `***`, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}
