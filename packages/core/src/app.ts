/** The app: configuration, the task registry and the send path. */
import { randomUUID } from 'node:crypto';
import { AsyncResult } from './async-result.js';
import type { Broker, PublishRoute } from './broker.js';
import { type AppConfig, type AppConfigInput, type Env, redactUrl, resolveConfig } from './config.js';
import type { ContractArgs, ContractResult, TaskContract } from './contract.js';
import { ConfigError, EncodeError, InvalidTaskOptionsError, isTaskqError, TaskAlreadyRegisteredError } from './errors.js';
import { errorFromMeta } from './exception-info.js';
import { Control } from './control/control-client.js';
import { sendTaskSentEvents } from './events/task-sent.js';
import { createLogger, type Logger } from './logger.js';
import { buildTaskMessage, type TaskMessage } from './message.js';
import { assertJsonSerialisable } from './json.js';
import { MemoryResultBackend } from './memory/memory-result-backend.js';
import type { ResultBackend } from './result-backend.js';
import { DEFAULT_PUBLISH_RETRY_POLICY, publishRetryDelay, type RetryPolicy } from './retry-policy.js';
import { builtinTask } from './canvas-builtins.js';
import { Signature } from './signature.js';
import { Signals } from './signals.js';
import { type BoundTaskFn, createTask, type Task, type TaskFn } from './task.js';
import { type ApplyOptions, type ResolvedTaskOptions, resolveTaskOptions, type TaskOptions, toDate, validateApplyOptions } from './task-options.js';
import { traceTask } from './task-trace.js';
import { toCeleryIso, toNaiveUtcIso } from './time.js';
import { createBrokerFromUrl, createResultBackendFromUrl } from './transport-registry.js';

export interface AppOptions extends AppConfigInput {
  /** A broker instance to use instead of resolving `brokerUrl` (tests, custom setups). */
  broker?: Broker;
  /** A result backend instance to use instead of resolving `resultBackend`. */
  backend?: ResultBackend;
  /** A pino logger (default: pino at TASKQ_LOG_LEVEL or info). */
  logger?: Logger;
  /** Environment to read TASKQ_* / CELERY_* settings from (default: process.env). */
  env?: Env;
}

/** The registry of an app's tasks, by name. */
export class TaskRegistry extends Map<string, Task> {
  /** A registered task, else one of Celery's built-in canvas tasks (`celery.map`, `celery.starmap`, `celery.chunks`). */
  override get(name: string): Task | undefined {
    return super.get(name) ?? builtinTask(name);
  }

  /** Registered names, sorted (as `inspect registered` shows them). */
  names(): string[] {
    return [...this.keys()].sort();
  }
}

type BindOption = { bind: true };

export class App {
  readonly conf: Readonly<AppConfig>;
  readonly log: Logger;
  readonly tasks = new TaskRegistry();
  /** The app's reply-to id (Celery's `app.oid`), sent as `reply_to` on every message. */
  readonly oid = randomUUID();
  /** Lifecycle hooks (Celery's signals): `app.signals.on('taskFailure', fn)`. See signals.ts. */
  readonly signals: Signals = new Signals((error, signal) => this.log.error({ err: error, signal }, `a ${signal} signal handler failed`));
  private brokerPromise: Promise<Broker> | undefined;
  /** The broker once `getBroker()` has resolved it (cleared by close). */
  private readyBroker: Broker | undefined;
  private backendPromise: Promise<ResultBackend> | undefined;
  private eagerBackend: MemoryResultBackend | undefined;
  private controlClient: Control | undefined;

  constructor(options: AppOptions = {}) {
    const { broker, backend, logger, env, ...config } = options;
    this.conf = Object.freeze(resolveConfig(config, env ?? process.env));
    // The default logger takes its level from the same environment as the rest of the config.
    this.log = logger ?? createLogger((env ?? process.env).TASKQ_LOG_LEVEL ?? 'info');
    if (broker) {
      this.brokerPromise = Promise.resolve(broker);
      this.readyBroker = broker;
    }
    if (backend) this.backendPromise = Promise.resolve(backend);
  }

  get name(): string {
    return this.conf.name;
  }

  /**
   * Register a task. With `{ bind: true }` the function receives a
   * {@link TaskContext} first (request, retry, AbortSignal).
   */
  task<A extends unknown[], R>(name: string, fn: BoundTaskFn<A, R>, options: TaskOptions & BindOption): Task<A, R>;
  task<A extends unknown[], R>(name: string, fn: TaskFn<A, R>, options?: TaskOptions): Task<A, R>;
  task(name: string, fn: (...args: never[]) => unknown, options: TaskOptions = {}): Task {
    if (typeof name !== 'string' || name === '') throw new ConfigError('a task needs an explicit, non-empty name, e.g. app.task("email.send", fn)');
    if (typeof fn !== 'function') throw new ConfigError(`task ${name}: the implementation must be a function`);
    if (this.tasks.has(name)) throw new TaskAlreadyRegisteredError(name);
    const task = createTask(this, name, fn, resolveTaskOptions(name, options));
    this.tasks.set(name, task as Task);
    return task as Task;
  }

  /** Register the implementation of a contract; the function must match the contract's types. */
  // The contract alone fixes the types (C is inferred from it first); the function is checked against them.
  implement<C extends TaskContract<any[], any>>(
    contract: C,
    fn: BoundTaskFn<ContractArgs<C>, ContractResult<C> | Promise<ContractResult<C>>>,
    options: TaskOptions & BindOption,
  ): Task<ContractArgs<C>, ContractResult<C> | Promise<ContractResult<C>>>;
  implement<C extends TaskContract<any[], any>>(
    contract: C,
    fn: TaskFn<ContractArgs<C>, ContractResult<C> | Promise<ContractResult<C>>>,
    options?: TaskOptions,
  ): Task<ContractArgs<C>, ContractResult<C> | Promise<ContractResult<C>>>;
  implement(contract: TaskContract, fn: (...args: never[]) => unknown, options: TaskOptions = {}): Task {
    return this.task(contract.name, fn as TaskFn<unknown[], unknown>, { ...contract.options, ...options } as TaskOptions);
  }

  /** Send a task by contract (or task object) with full types, without needing its implementation. */
  send<A extends unknown[], R>(contract: TaskContract<A, R> | Task<A, R>, ...args: NoInfer<A>): Promise<AsyncResult<Awaited<R>>> {
    return this.sendWith(contract, args);
  }

  /** Send a task by contract with call options. */
  sendWith<A extends unknown[], R>(
    contract: TaskContract<A, R> | Task<A, R>,
    args: NoInfer<A>,
    options: ApplyOptions = {},
    kwargs: Record<string, unknown> = {},
  ): Promise<AsyncResult<Awaited<R>>> {
    const name = 'taskName' in contract ? contract.taskName : contract.name;
    const defaults = 'taskName' in contract ? {} : contractDefaults(contract);
    return this.sendTask(name, args, kwargs, { ...defaults, ...options }) as Promise<AsyncResult<Awaited<R>>>;
  }

  /** A signature by name, for tasks this app does not implement. */
  signature<R = unknown>(name: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}, options: ApplyOptions = {}): Signature<R> {
    return new Signature<R>(name, args, kwargs, options, false, this);
  }

  /**
   * Send a task by name (Celery's `send_task`). Validates options and
   * arguments before anything is sent; resolves once the broker holds the
   * message.
   */
  async sendTask(name: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}, options: ApplyOptions = {}): Promise<AsyncResult<unknown>> {
    validateApplyOptions(options);
    const { message, route } = this.prepareSend(name, args, kwargs, options);
    if (this.conf.taskAlwaysEager) return this.applyEager(message);
    await this.publish(message, route, this.publishPolicy(options));
    if (this.conf.taskSendSentEvent) await sendTaskSentEvents(await this.getBroker(), [{ message, route }], this.log);
    return new AsyncResult(message.headers.id, this);
  }

  /**
   * Send many calls of one task at once (BullMQ's `addBulk`): every call is
   * validated and built first, so a bad one sends nothing; then the messages
   * go out together — in one pipeline where the broker has `publishMany`
   * (Redis), else as concurrent publishes. Each entry of `argsList` is the
   * args array of one call; `options` apply to all (a `taskId` is refused:
   * ids must differ). Resolves once the broker holds every message.
   */
  async sendMany<A extends unknown[], R>(
    task: string | TaskContract<A, R> | Task<A, R>,
    argsList: ReadonlyArray<NoInfer<A>>,
    options: ApplyOptions = {},
    kwargs: Record<string, unknown> = {},
  ): Promise<AsyncResult<Awaited<R>>[]> {
    validateApplyOptions(options);
    if (options.taskId !== undefined) throw new InvalidTaskOptionsError('sendMany() cannot take a taskId: each call gets its own id');
    if (!Array.isArray(argsList)) throw new InvalidTaskOptionsError(`sendMany(task, argsList): argsList must be an array of args arrays, got ${typeof argsList}`);
    const name = typeof task === 'string' ? task : 'taskName' in task ? task.taskName : task.name;
    const merged = typeof task === 'string' || 'taskName' in task ? options : { ...contractDefaults(task), ...options };
    const sends = argsList.map((args) => this.prepareSend(name, args as unknown[], kwargs, merged));
    if (this.conf.taskAlwaysEager) {
      const out: AsyncResult<unknown>[] = [];
      for (const { message } of sends) out.push(await this.applyEager(message));
      return out as AsyncResult<Awaited<R>>[];
    }
    const policy = this.publishPolicy(merged);
    const broker = await this.getBroker();
    if (broker.publishMany && sends.length > 0) {
      await this.withPublishRetry(() => broker.publishMany!(sends), policy);
    } else {
      await Promise.all(sends.map(({ message, route }) => this.publish(message, route, policy)));
    }
    if (this.conf.taskSendSentEvent) await sendTaskSentEvents(broker, sends, this.log);
    return sends.map(({ message }) => new AsyncResult(message.headers.id, this)) as AsyncResult<Awaited<R>>[];
  }

  /** Check one call's arguments and build its message and route (nothing is sent). */
  private prepareSend(name: string, args: unknown[], kwargs: Record<string, unknown>, options: ApplyOptions): { message: TaskMessage; route: PublishRoute } {
    if (!Array.isArray(args)) throw new InvalidTaskOptionsError(`cannot send ${name}: args must be an array, got ${typeof args}`);
    if (kwargs === null || typeof kwargs !== 'object' || Array.isArray(kwargs)) {
      throw new InvalidTaskOptionsError(`cannot send ${name}: kwargs must be a plain object, got ${Array.isArray(kwargs) ? 'an array' : typeof kwargs}`);
    }
    // Check the data before building anything, so the error names the argument and nothing is sent.
    try {
      assertJsonSerialisable(args, 'args');
      assertJsonSerialisable(kwargs, 'kwargs');
      if (options.headers !== undefined) assertJsonSerialisable(options.headers, 'headers');
    } catch (error) {
      if (!(error instanceof EncodeError)) throw error;
      throw new EncodeError(`cannot send ${name}: ${error.message}. Nothing was sent.`, { cause: error });
    }
    const task = this.tasks.get(name);
    const message = this.buildMessage(name, args, kwargs, options, task?.options);
    const queue = options.queue ?? task?.options.queue ?? this.conf.defaultQueue;
    const route: PublishRoute = { queue };
    if (options.routingKey !== undefined) route.routingKey = options.routingKey;
    if (options.exchange !== undefined) route.exchange = options.exchange;
    return { message, route };
  }

  private publishPolicy(options: ApplyOptions): RetryPolicy | undefined {
    return options.retry === false ? undefined : { ...DEFAULT_PUBLISH_RETRY_POLICY, ...options.retryPolicy };
  }

  /** Build the protocol v2 message for a call, as Celery's `send_task` would. */
  buildMessage(
    name: string,
    args: unknown[],
    kwargs: Record<string, unknown>,
    options: ApplyOptions,
    taskOptions?: ResolvedTaskOptions,
  ): TaskMessage {
    const now = Date.now();
    let eta: string | null = null;
    if (options.countdown !== undefined) eta = toCeleryIso(new Date(now + options.countdown * 1000));
    else if (options.eta !== undefined) eta = toCeleryIso(toDate(options.eta, 'eta'));
    let expires: string | null = null;
    let expirationMs: number | undefined;
    const exp = options.expires ?? taskOptions?.expires;
    if (typeof exp === 'number') {
      expires = toCeleryIso(new Date(now + exp * 1000));
      expirationMs = exp * 1000;
    } else if (exp !== undefined) {
      const at = toDate(exp, 'expires');
      expires = toCeleryIso(at);
      expirationMs = Math.max(0, at.getTime() - now);
    }
    return buildTaskMessage({
      task: name,
      id: options.taskId,
      args,
      kwargs,
      eta,
      expires,
      expirationMs,
      priority: options.priority ?? taskOptions?.priority,
      timelimit: [options.timeLimit ?? taskOptions?.timeLimit ?? null, options.softTimeLimit ?? taskOptions?.softTimeLimit ?? null],
      rootId: options.rootId,
      parentId: options.parentId,
      shadow: options.shadow,
      ignoreResult: options.ignoreResult ?? taskOptions?.ignoreResult ?? false,
      replyTo: this.oid,
      headers: options.headers,
    });
  }

  /** Publish a built message, retrying broker connection failures per the policy. */
  publish(message: TaskMessage, route: PublishRoute, policy?: RetryPolicy): Promise<void> {
    // Connected: hand the message to the broker at once, without awaiting the broker's promise and
    // a retry loop per message (a busy producer sends thousands a second); the retry policy comes
    // in only after a failure.
    const broker = this.readyBroker;
    if (broker) return this.withPublishRetry(() => broker.publish(message, route), policy);
    return this.getBroker().then((b) => this.withPublishRetry(() => b.publish(message, route), policy));
  }

  /** Send once; on a connection error, send again as `policy` allows. */
  private withPublishRetry(send: () => Promise<void>, policy: RetryPolicy | undefined): Promise<void> {
    let sent: Promise<void>;
    try {
      sent = send();
    } catch (error) {
      sent = Promise.reject(error);
    }
    return policy ? sent.catch((error: unknown) => this.retryPublish(send, policy, error)) : sent;
  }

  private async retryPublish(send: () => Promise<void>, policy: RetryPolicy, first: unknown): Promise<void> {
    let error = first;
    for (let attempt = 0; ; attempt++) {
      if (attempt >= policy.maxRetries || !isTaskqError(error, 'TASKQ_ERR_BROKER_CONNECTION')) throw error;
      const delay = publishRetryDelay(policy, attempt);
      this.log.warn({ err: error, attempt: attempt + 1, delay }, 'publish failed, retrying');
      await new Promise((r) => setTimeout(r, delay * 1000));
      try {
        await send();
        return;
      } catch (e) {
        error = e;
      }
    }
  }

  /** Run a message in this process (eager mode): retries run inline at once. @internal (used by canvas) */
  async applyEager(first: TaskMessage): Promise<AsyncResult<unknown>> {
    this.eagerBackend ??= new MemoryResultBackend(`memory://eager-${this.oid}`, { resultExpires: this.conf.resultExpires });
    const backend = this.eagerBackend;
    let message = first;
    for (;;) {
      const outcome = await traceTask(this, message, { hostname: 'eager', eager: true, backend });
      if (outcome.kind === 'retry') {
        message = outcome.retryMessage;
        continue;
      }
      if (this.conf.taskEagerPropagates && outcome.kind === 'failure') {
        // As Celery: the task's own exception, so tests can match its class; a thrown non-Error is wrapped.
        if (outcome.error instanceof Error) throw outcome.error;
        const meta = await backend.get(message.headers.id);
        throw meta ? errorFromMeta(meta) : outcome.error;
      }
      // An ignored result is still handed back in eager mode (as Celery's EagerResult), else get() would wait forever.
      if (outcome.kind === 'success' && (await backend.get(first.headers.id)) === undefined) {
        await backend.store(first.headers.id, {
          status: 'SUCCESS',
          result: outcome.value ?? null,
          traceback: null,
          children: [],
          date_done: toNaiveUtcIso(new Date()),
          task_id: first.headers.id,
        });
      }
      break;
    }
    return new AsyncResult(first.headers.id, { getBackend: async () => backend });
  }

  /** Remote control and inspection of workers (Celery's `app.control`): `await app.control.inspect().ping()`. */
  get control(): Control {
    this.controlClient ??= new Control(this);
    return this.controlClient;
  }

  /** A handle on a task's result by id (Celery's `app.AsyncResult(id)`). */
  AsyncResult<T = unknown>(id: string): AsyncResult<T> {
    return new AsyncResult<T>(id, this);
  }

  /** The connected broker, created from `brokerUrl` on first use. */
  getBroker(): Promise<Broker> {
    if (!this.brokerPromise) {
      const pending = connectOnce(
        () => createBrokerFromUrl(this.conf.brokerUrl, { config: this.conf, log: this.log, oid: this.oid }),
        () => {
          this.brokerPromise = undefined;
        },
      );
      this.brokerPromise = pending;
      // Remembered for publish() unless the app was closed meanwhile.
      void pending.then(
        (broker) => {
          if (this.brokerPromise === pending) this.readyBroker = broker;
        },
        () => {},
      );
    }
    return this.brokerPromise;
  }

  /** The connected result backend, created from `resultBackend` on first use. */
  getBackend(): Promise<ResultBackend> {
    this.backendPromise ??= connectOnce(
      () => createResultBackendFromUrl(this.conf.resultBackend, { config: this.conf, log: this.log, oid: this.oid }),
      () => {
        this.backendPromise = undefined;
      },
    );
    return this.backendPromise;
  }

  /** Broker and backend URLs with passwords masked. */
  describe(): { broker: string; backend: string } {
    return { broker: redactUrl(this.conf.brokerUrl), backend: redactUrl(this.conf.resultBackend) };
  }

  /** Close the broker and backend connections. */
  async close(): Promise<void> {
    const [broker, backend] = [this.brokerPromise, this.backendPromise];
    this.brokerPromise = undefined;
    this.readyBroker = undefined;
    this.backendPromise = undefined;
    await Promise.allSettled([broker?.then((b) => b.close()), backend?.then((b) => b.close())]);
  }
}

function contractDefaults(contract: TaskContract): ApplyOptions {
  const o: ApplyOptions = {};
  if (contract.options.queue !== undefined) o.queue = contract.options.queue;
  if (contract.options.priority !== undefined) o.priority = contract.options.priority;
  if (contract.options.expires !== undefined) o.expires = contract.options.expires;
  if (contract.options.ignoreResult !== undefined) o.ignoreResult = contract.options.ignoreResult;
  return o;
}

/** Create an app. Broker and backend come from the options, else TASKQ_* / CELERY_* env, else memory://. */
export function createApp(options: AppOptions = {}): App {
  return new App(options);
}

/** Create a broker or backend and connect it; on a failure `forget` runs (so the next call tries again) and the error propagates. */
async function connectOnce<T extends { connect(): Promise<void> }>(create: () => Promise<T>, forget: () => void): Promise<T> {
  try {
    const connection = await create();
    await connection.connect();
    return connection;
  } catch (error) {
    forget();
    throw error;
  }
}
