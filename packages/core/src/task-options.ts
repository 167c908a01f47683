/** Options of a task definition and of one call (`applyAsync`), with their validation. */
import { InvalidTaskOptionsError } from './errors.js';
import type { RetryPolicy } from './retry-policy.js';
import { parseIsoDate } from './time.js';

// Error classes have arbitrary constructor signatures, hence `any[]`.
export type ErrorClass = abstract new (...args: any[]) => Error;

/** Options given when a task is defined; each maps to the Celery task attribute of the same meaning. */
export interface TaskOptions {
  /** Pass a {@link TaskContext} as the first argument (Celery's `bind=True`). */
  bind?: boolean;
  /** Retries before giving up (`max_retries`, default 3). `Infinity` retries forever. */
  maxRetries?: number;
  /** Seconds before a retry when no countdown is given (`default_retry_delay`, default 180). */
  defaultRetryDelay?: number;
  /** Errors that retry the task automatically (`autoretry_for`). */
  autoretryFor?: readonly ErrorClass[];
  /** Exponential backoff for automatic retries: `true` (1 s base) or the base in seconds (`retry_backoff`). */
  retryBackoff?: boolean | number;
  /** Upper bound of the backoff, in seconds (`retry_backoff_max`, default 600). */
  retryBackoffMax?: number;
  /** Randomise backoff countdowns (`retry_jitter`, default true). */
  retryJitter?: boolean;
  /** Hard time limit in seconds (`time_limit`). */
  timeLimit?: number;
  /** Soft time limit in seconds (`soft_time_limit`): the task's AbortSignal is aborted. */
  softTimeLimit?: number;
  /** Default queue of the task (routing). */
  queue?: string;
  /** Default priority, 0–9. */
  priority?: number;
  /** Rate limit such as `'10/s'`, `'100/m'`, `'1000/h'` (`rate_limit`). */
  rateLimit?: string;
  /** Do not store the result (`ignore_result`). */
  ignoreResult?: boolean;
  /** Acknowledge after the task ran rather than before (`acks_late`). */
  acksLate?: boolean;
  /** Default expiry: seconds after sending (`expires`). */
  expires?: number;
}

/** Options of one call, as Celery's `apply_async` keyword arguments. */
export interface ApplyOptions {
  /** Seconds from now before the task may run. Exclusive with `eta`. */
  countdown?: number;
  /** Earliest time to run. Exclusive with `countdown`. */
  eta?: Date | string;
  /** Seconds from now, or a time, after which the task is not run any more (ends REVOKED). */
  expires?: number | Date | string;
  /** 0–9. On Redis, as in Celery, 0 is consumed first; on RabbitMQ 9 is. */
  priority?: number;
  queue?: string;
  routingKey?: string;
  exchange?: string;
  /** Extra message headers. */
  headers?: Record<string, unknown>;
  /** Use this id instead of a fresh UUID. */
  taskId?: string;
  ignoreResult?: boolean;
  /** Retry the publish when the broker connection fails (default true). */
  retry?: boolean;
  retryPolicy?: Partial<RetryPolicy>;
  timeLimit?: number;
  softTimeLimit?: number;
  /** Shown instead of the task name in logs (Celery's `shadow`). */
  shadow?: string;
  parentId?: string;
  rootId?: string;
}

const APPLY_OPTION_KEYS = new Set<string>([
  'countdown',
  'eta',
  'expires',
  'priority',
  'queue',
  'routingKey',
  'exchange',
  'headers',
  'taskId',
  'ignoreResult',
  'retry',
  'retryPolicy',
  'timeLimit',
  'softTimeLimit',
  'shadow',
  'parentId',
  'rootId',
]);

const TASK_OPTION_KEYS = new Set<string>([
  'bind',
  'maxRetries',
  'defaultRetryDelay',
  'autoretryFor',
  'retryBackoff',
  'retryBackoffMax',
  'retryJitter',
  'timeLimit',
  'softTimeLimit',
  'queue',
  'priority',
  'rateLimit',
  'ignoreResult',
  'acksLate',
  'expires',
]);

export interface ResolvedTaskOptions extends Required<Omit<TaskOptions, 'timeLimit' | 'softTimeLimit' | 'queue' | 'priority' | 'rateLimit' | 'expires' | 'acksLate' | 'ignoreResult'>> {
  timeLimit: number | undefined;
  softTimeLimit: number | undefined;
  queue: string | undefined;
  priority: number | undefined;
  rateLimit: RateLimit | undefined;
  expires: number | undefined;
  acksLate: boolean | undefined;
  ignoreResult: boolean | undefined;
}

export interface RateLimit {
  /** The text as given: `'10/s'`. */
  text: string;
  /** Allowed tasks per second. */
  perSecond: number;
}

const RATE_RE = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([smh]))?\s*$/;

/** Parse Celery's rate limit strings: `'10/s'`, `'100/m'`, `'1000/h'`, or a bare number (per second). */
export function parseRateLimit(text: string): RateLimit {
  const m = RATE_RE.exec(text);
  if (!m) throw new InvalidTaskOptionsError(`rateLimit ${JSON.stringify(text)} is not a rate; use e.g. '10/s', '100/m' or '1000/h'`);
  const n = Number(m[1]);
  const per = m[2] === 'm' ? 60 : m[2] === 'h' ? 3600 : 1;
  return { text, perSecond: n / per };
}

export function resolveTaskOptions(name: string, options: TaskOptions = {}): ResolvedTaskOptions {
  for (const key of Object.keys(options)) {
    if (!TASK_OPTION_KEYS.has(key)) throw new InvalidTaskOptionsError(`task ${name}: unknown option ${JSON.stringify(key)}`);
  }
  checkPriority(options.priority, `task ${name}: priority`);
  checkSeconds(options.timeLimit, `task ${name}: timeLimit`);
  checkSeconds(options.softTimeLimit, `task ${name}: softTimeLimit`);
  checkSeconds(options.defaultRetryDelay, `task ${name}: defaultRetryDelay`);
  checkSeconds(options.expires, `task ${name}: expires`);
  if (options.maxRetries !== undefined && !(options.maxRetries >= 0)) {
    throw new InvalidTaskOptionsError(`task ${name}: maxRetries must be >= 0, got ${options.maxRetries}`);
  }
  return {
    bind: options.bind ?? false,
    maxRetries: options.maxRetries ?? 3,
    defaultRetryDelay: options.defaultRetryDelay ?? 180,
    autoretryFor: options.autoretryFor ?? [],
    retryBackoff: options.retryBackoff ?? false,
    retryBackoffMax: options.retryBackoffMax ?? 600,
    retryJitter: options.retryJitter ?? true,
    timeLimit: options.timeLimit,
    softTimeLimit: options.softTimeLimit,
    queue: options.queue,
    priority: options.priority,
    rateLimit: options.rateLimit === undefined ? undefined : parseRateLimit(options.rateLimit),
    expires: options.expires,
    acksLate: options.acksLate,
    ignoreResult: options.ignoreResult,
  };
}

/** Check a call's options; throws {@link InvalidTaskOptionsError} naming the bad option. Nothing is sent. */
export function validateApplyOptions(options: ApplyOptions): void {
  for (const key of Object.keys(options)) {
    if (!APPLY_OPTION_KEYS.has(key)) {
      throw new InvalidTaskOptionsError(
        `unknown option ${JSON.stringify(key)}; to pass keyword arguments use applyAsync(args, kwargs, options)`,
      );
    }
  }
  if (options.countdown !== undefined && options.eta !== undefined) {
    throw new InvalidTaskOptionsError('give either countdown or eta, not both');
  }
  checkSeconds(options.countdown, 'countdown');
  checkPriority(options.priority, 'priority');
  if (options.eta !== undefined) toDate(options.eta, 'eta');
  if (options.expires !== undefined) {
    if (typeof options.expires === 'number') checkSeconds(options.expires, 'expires');
    else toDate(options.expires, 'expires');
  }
  checkSeconds(options.timeLimit, 'timeLimit');
  checkSeconds(options.softTimeLimit, 'softTimeLimit');
  if (options.queue !== undefined && (typeof options.queue !== 'string' || options.queue === '')) {
    throw new InvalidTaskOptionsError(`queue must be a non-empty string, got ${JSON.stringify(options.queue)}`);
  }
}

export function toDate(value: Date | string, what: string): Date {
  const date = typeof value === 'string' ? parseIsoDate(value) : value;
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new InvalidTaskOptionsError(`${what} must be a Date or an ISO-8601 string, got ${JSON.stringify(value)}`);
  }
  return date;
}

function checkPriority(p: number | undefined, what: string): void {
  if (p === undefined) return;
  if (!Number.isInteger(p) || p < 0 || p > 9) {
    throw new InvalidTaskOptionsError(`${what} must be an integer from 0 to 9, got ${JSON.stringify(p)}`);
  }
}

function checkSeconds(s: number | undefined, what: string): void {
  if (s === undefined) return;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) {
    throw new InvalidTaskOptionsError(`${what} must be a non-negative number of seconds, got ${JSON.stringify(s)}`);
  }
}
