/** Task definitions: the typed, callable object `app.task()` returns. */
import type { Logger } from 'pino';
import type { App } from './app.js';
import type { AsyncResult } from './async-result.js';
import { InvalidTaskOptionsError, MaxRetriesExceededError, Retry } from './errors.js';
import { Signature } from './signature.js';
import type { ApplyOptions, ResolvedTaskOptions } from './task-options.js';

/** What a task knows about the message it runs for (Celery's `self.request`). */
export interface TaskRequest {
  id: string;
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  retries: number;
  eta: string | null;
  expires: string | null;
  hostname: string;
  rootId: string;
  parentId: string | null;
  groupId: string | null;
  groupIndex: number | null;
  origin: string;
  replyTo: string | undefined;
  correlationId: string;
  /** The queue the message came from, when it came from a broker. */
  queue: string | undefined;
  redelivered: boolean;
  /** `[hard, soft]` seconds in force for this run. */
  timeLimit: [number | null, number | null];
  isEager: boolean;
  ignoreResult: boolean;
}

export interface RetryOptions {
  /** The error that caused the retry; thrown as the failure when retries are exhausted. */
  exc?: unknown;
  /** Seconds until the retry (default: the task's `defaultRetryDelay`). */
  countdown?: number;
  eta?: Date;
  /** Override the task's `maxRetries` for this decision. */
  maxRetries?: number;
}

/** The first argument of a bound task (`bind: true`). */
export interface TaskContext {
  readonly request: TaskRequest;
  /** Aborted at the soft time limit (reason: SoftTimeLimitExceeded), on revoke with terminate, or at cold shutdown. */
  readonly signal: AbortSignal;
  readonly app: App;
  readonly name: string;
  /** A logger bound to the task id and name. */
  readonly log: Logger;
  /**
   * Retry this task: throws {@link Retry} (write `throw ctx.retry(...)` or just
   * `ctx.retry(...)`). When retries are exhausted it throws `exc` if given,
   * else {@link MaxRetriesExceededError}.
   */
  retry(options?: RetryOptions): never;
}

/** The first parameter's type: what a chain's previous step must return. `never` for a task without parameters. */
export type FirstParam<A extends unknown[]> = A extends [] ? never : A extends [infer F, ...unknown[]] ? F : A extends [(infer O)?, ...unknown[]] ? O | undefined : A[0];

/** Arguments of a task function; a bound task's function takes the context first. */
export type TaskFn<A extends unknown[], R> = (...args: A) => R;
export type BoundTaskFn<A extends unknown[], R> = (ctx: TaskContext, ...args: A) => R;

/**
 * A registered task. Calling it runs the function directly (handy in unit
 * tests); `delay`/`applyAsync` send it to a worker.
 */
export interface Task<A extends unknown[] = unknown[], R = unknown> {
  (...args: A): R;
  readonly taskName: string;
  readonly options: Readonly<ResolvedTaskOptions>;
  readonly app: App;
  /** Send with positional arguments. Resolves once the broker holds the message. */
  delay(...args: A): Promise<AsyncResult<Awaited<R>>>;
  /** Send with call options (`countdown`, `eta`, `expires`, `priority`, `queue`, …). */
  applyAsync(args?: A, options?: ApplyOptions): Promise<AsyncResult<Awaited<R>>>;
  /** Send with keyword arguments too (they reach the function as one trailing object argument). */
  applyAsync(args: A, kwargs: Record<string, unknown>, options?: ApplyOptions): Promise<AsyncResult<Awaited<R>>>;
  /**
   * A signature with (some of) the arguments, for later or for workflows. In
   * a chain the previous result is prepended, so it must fit the first parameter.
   */
  s(...args: Partial<A>): Signature<Awaited<R>, FirstParam<A>>;
  /** An immutable signature: a parent's result is not prepended. */
  si(...args: A): Signature<Awaited<R>, unknown>;
  /** Run the function with a context (used by workers and eager mode). */
  run(ctx: TaskContext, args: unknown[]): R;
}

export function createTask<A extends unknown[], R>(
  app: App,
  name: string,
  fn: (...args: never[]) => R,
  options: ResolvedTaskOptions,
): Task<A, R> {
  const run = (ctx: TaskContext, args: unknown[]): R =>
    options.bind ? (fn as (...a: unknown[]) => R)(ctx, ...args) : (fn as (...a: unknown[]) => R)(...args);
  const direct = (...args: A): R => run(directContext(app, name, args, options), args);
  // Rest parameters, not `arguments`: an arrow function's `arguments` would be createTask's own.
  const applyAsync = async (
    args: A = [] as unknown as A,
    ...rest: [options?: ApplyOptions] | [kwargs: Record<string, unknown>, options?: ApplyOptions]
  ): Promise<AsyncResult<Awaited<R>>> => {
    const [kwargs, callOptions] = rest.length >= 2 ? [rest[0] ?? {}, rest[1] ?? {}] : [{}, rest[0] ?? {}];
    if (!Array.isArray(args)) throw new InvalidTaskOptionsError(`applyAsync(args): args must be an array, got ${typeof args}`);
    return app.sendTask(name, args, kwargs as Record<string, unknown>, callOptions as ApplyOptions) as Promise<AsyncResult<Awaited<R>>>;
  };
  const task = Object.assign(direct, {
    taskName: name,
    options,
    app,
    delay: (...args: A) => applyAsync(args),
    applyAsync,
    s: (...args: Partial<A>) => new Signature<Awaited<R>>(name, args, {}, {}, false, app),
    si: (...args: A) => new Signature<Awaited<R>>(name, args, {}, {}, true, app),
    run,
  });
  return task as unknown as Task<A, R>;
}

/** The context of a direct call: no message, no broker; `retry()` throws as in a worker. */
function directContext(app: App, name: string, args: unknown[], options: ResolvedTaskOptions): TaskContext {
  const request: TaskRequest = {
    id: 'direct-call',
    task: name,
    args,
    kwargs: {},
    retries: 0,
    eta: null,
    expires: null,
    hostname: 'direct',
    rootId: 'direct-call',
    parentId: null,
    groupId: null,
    groupIndex: null,
    origin: '',
    replyTo: undefined,
    correlationId: 'direct-call',
    queue: undefined,
    redelivered: false,
    timeLimit: [null, null],
    isEager: true,
    ignoreResult: true,
  };
  return makeContext(app, request, options, () => new AbortController().signal);
}

/**
 * The context a bound task receives. Its request, logger (a pino child) and
 * signal are made on first use: at thousands of tasks a second, an
 * AbortController, a child logger and a request object per task that never
 * looks at them showed in profiles. `request` and `signal` may be given as
 * functions that make them.
 */
export function makeContext(
  app: App,
  request: TaskRequest | (() => TaskRequest),
  options: ResolvedTaskOptions,
  signal: AbortSignal | (() => AbortSignal),
): TaskContext {
  // Own enumerable getters (not a class): `{ ...ctx }` copies every part, as it did when they were plain values.
  let taskRequest: TaskRequest | undefined = typeof request === 'function' ? undefined : request;
  let abortSignal: AbortSignal | undefined = typeof signal === 'function' ? undefined : signal;
  let logger: Logger | undefined;
  const requestOf = (): TaskRequest => {
    taskRequest ??= (request as () => TaskRequest)();
    return taskRequest;
  };
  return {
    app,
    get request() {
      return requestOf();
    },
    get name() {
      return requestOf().task;
    },
    get signal() {
      abortSignal ??= (signal as () => AbortSignal)();
      return abortSignal;
    },
    get log() {
      const r = requestOf();
      logger ??= app.log.child({ taskId: r.id, taskName: r.task });
      return logger;
    },
    retry(retryOptions: RetryOptions = {}): never {
      const r = requestOf();
      const max = retryOptions.maxRetries ?? options.maxRetries;
      if (r.retries >= max) {
        if (retryOptions.exc !== undefined) throw retryOptions.exc;
        throw new MaxRetriesExceededError(r.task, r.id, max);
      }
      throw new Retry({
        countdown: retryOptions.eta ? undefined : (retryOptions.countdown ?? options.defaultRetryDelay),
        eta: retryOptions.eta,
        exc: retryOptions.exc,
      });
    },
  };
}
