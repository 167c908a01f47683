/**
 * What happens to each delivery, from receipt to ack: log it, hold it if it
 * has an eta, hand it to the pool, act on the outcome (republish a retry,
 * ack, reject), and on shutdown give back to the broker whatever was not
 * started. Celery's `worker/consumer` + `worker/request.py`, minus the pool.
 */
import {
  type App,
  type Consumer,
  DEFAULT_PUBLISH_RETRY_POLICY,
  type Delivery,
  type InvalidMessage,
  type Logger,
  parseIsoDate,
  type ResultBackend,
  type ResultMeta,
  type StoreContext,
  type TaskMessage,
  type TraceEnv,
  TaskRevokedError,
  type TraceOutcome,
  traceTask,
  type WaitOptions,
} from '@taskq/core';
import { EtaScheduler } from './eta-scheduler.js';
import type { Pool, PoolResult } from './pools/pool.js';
import type { RateLimiter } from './rate-limiter.js';
import type { TaskObserver } from './request-tracker.js';
import type { RevokedSet, RevokeOptions } from './revocation.js';
import { emitOutcome } from './run-task.js';
import { storeFinalState } from './store-state.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

/**
 * One delivery the worker holds, from receipt until it is settled and done;
 * also the environment its task runs in (hostname, queue, limits, signal,
 * backend). A class with lazy parts, not object literals with closures: the
 * worker makes one per task, thousands a second, and the child logger and
 * AbortController are needed only when something logs for the task or the
 * task (or a revoke, or a cold shutdown) touches its signal.
 */
class Tracked implements TraceEnv {
  /** ack() or reject() was called: the broker no longer expects anything from us. */
  settled = false;
  /** Given back to the broker while it still ran (cold shutdown): its outcome must not be acted on or stored. */
  requeued = false;
  /** The worker stopped caring (cold shutdown): nothing is done with its outcome. */
  abandoned = false;
  /** Took its rate-limit token (it may have waited for it): do not ask again. */
  rateAdmitted = false;
  /** Revoked with terminate while it ran: REVOKED is stored, later writes are dropped. */
  terminated = false;
  readonly queue: string;
  readonly redelivered: boolean;
  readonly timeLimit: number | undefined;
  readonly softTimeLimit: number | undefined;
  /** The result backend as this task sees it: writes stop once its message went back to the queue. */
  readonly backend: ResultBackend;
  private controller: AbortController | undefined;
  private logger: Logger | undefined;

  constructor(
    readonly delivery: Delivery,
    readonly acksLate: boolean,
    private readonly loopLog: Logger,
    readonly hostname: string,
    options: ResolvedWorkerOptions,
    backend: ResultBackend,
    workflow: WorkflowMethods,
  ) {
    this.queue = delivery.queue;
    this.redelivered = delivery.redelivered;
    this.timeLimit = options.timeLimit;
    this.softTimeLimit = options.softTimeLimit;
    this.backend = new GuardedBackend(backend, this, workflow);
  }

  /** The task's logger, bound to its id and name. */
  get log(): Logger {
    const h = this.delivery.message.headers;
    this.logger ??= this.loopLog.child({ taskId: h.id, taskName: h.task });
    return this.logger;
  }

  /** Aborted on revoke with terminate and at cold shutdown. */
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  abort(reason: Error): void {
    this.controller ??= new AbortController();
    this.controller.abort(reason);
  }
}

/** The backend's optional group and chord methods, bound once per worker (not per task). */
type WorkflowMethods = Pick<ResultBackend, 'saveGroup' | 'restoreGroup' | 'deleteGroup' | 'setChordSize' | 'onChordPartReturn'>;

function bindWorkflowMethods(backend: ResultBackend): WorkflowMethods {
  return {
    saveGroup: backend.saveGroup?.bind(backend),
    restoreGroup: backend.restoreGroup?.bind(backend),
    deleteGroup: backend.deleteGroup?.bind(backend),
    setChordSize: backend.setChordSize?.bind(backend),
    onChordPartReturn: backend.onChordPartReturn?.bind(backend),
  };
}

/** A task's view of the result backend: writes are dropped once its message was requeued or it was terminated. */
class GuardedBackend implements ResultBackend {
  readonly backend: string;
  // The optional group and chord methods pass through, so workflows count chord parts on this backend.
  readonly saveGroup: ResultBackend['saveGroup'];
  readonly restoreGroup: ResultBackend['restoreGroup'];
  readonly deleteGroup: ResultBackend['deleteGroup'];
  readonly setChordSize: ResultBackend['setChordSize'];
  readonly onChordPartReturn: ResultBackend['onChordPartReturn'];

  constructor(
    private readonly inner: ResultBackend,
    private readonly t: Tracked,
    workflow: WorkflowMethods,
  ) {
    this.backend = inner.backend;
    this.saveGroup = workflow.saveGroup;
    this.restoreGroup = workflow.restoreGroup;
    this.deleteGroup = workflow.deleteGroup;
    this.setChordSize = workflow.setChordSize;
    this.onChordPartReturn = workflow.onChordPartReturn;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  store(id: string, meta: ResultMeta, context?: StoreContext): Promise<void> {
    if (this.t.requeued || this.t.terminated) return Promise.resolve();
    return this.inner.store(id, meta, context);
  }

  get(id: string): Promise<ResultMeta | undefined> {
    return this.inner.get(id);
  }

  wait(id: string, options: WaitOptions): Promise<ResultMeta> {
    return this.inner.wait(id, options);
  }

  forget(id: string): Promise<void> {
    return this.inner.forget(id);
  }
}

/** Revocation and rate limits: the worker's controls the loop consults for every task. */
export interface LoopControls {
  readonly revoked: RevokedSet;
  readonly rateLimiter: RateLimiter;
  /** Told about each task's life (inspect, events, metrics); see request-tracker.ts. */
  readonly observer?: TaskObserver;
}

export class ConsumerLoop {
  private consumer: Consumer | undefined;
  private readonly tracked = new Set<Tracked>();
  /** Handling of every delivery handed to the pool (or run directly), until its outcome was acted on. */
  private readonly running = new Set<Promise<void>>();
  /** Tasks held until their eta: each raises the prefetch by one (see adjustPrefetch). */
  private readonly eta: EtaScheduler<Tracked>;
  /**
   * Tasks held until their rate-limit token is due. Unlike eta holds they
   * keep their prefetch slot (Celery does not raise the QoS for them), so a
   * backlog of a slow-rated task fills the window and the worker stops
   * fetching instead of pulling the whole queue into memory.
   */
  private readonly rateHeld: EtaScheduler<Tracked>;
  private accepting = true;
  readonly processed: Record<string, number> = {};
  private readonly workflow: WorkflowMethods;

  constructor(
    private readonly app: App,
    private readonly options: ResolvedWorkerOptions,
    private readonly pool: Pool,
    private readonly backend: ResultBackend,
    private readonly log: Logger,
    private readonly controls?: LoopControls,
  ) {
    this.eta = new EtaScheduler((t) => {
      this.adjustPrefetch();
      this.execute(t);
    });
    this.rateHeld = new EtaScheduler((t) => this.execute(t));
    this.workflow = bindWorkflowMethods(backend);
  }

  /** The consumer whose prefetch is raised while eta tasks are held. */
  attach(consumer: Consumer): void {
    this.consumer = consumer;
  }

  /** Tasks held until their eta or their rate-limit token. */
  get scheduled(): number {
    return this.eta.size + this.rateHeld.size;
  }

  /** Whether anything handed to the pool has not finished yet. */
  get busy(): boolean {
    return this.running.size > 0;
  }

  /** The consumer's delivery callback. */
  onDelivery(delivery: Delivery): void {
    const h = delivery.message.headers;
    const task = this.app.tasks.get(h.task);
    const t = new Tracked(delivery, task?.options.acksLate ?? this.app.conf.taskAcksLate, this.log, this.options.hostname, this.options, this.backend, this.workflow);
    if (!this.accepting) {
      // Arrived while the consumer was stopping: it was never ours to run.
      void this.reject(t, true);
      return;
    }
    this.tracked.add(t);
    const dueAt = h.eta ? parseIsoDate(h.eta)?.getTime() : undefined;
    const held = dueAt !== undefined && dueAt > Date.now();
    this.controls?.observer?.received(delivery, held ? dueAt : undefined);
    if (this.log.isLevelEnabled('info')) {
      // Same fields as the task's child logger would bind, without making one for the two lines every task logs.
      this.log.info(
        { taskId: h.id, taskName: h.task, queue: delivery.queue, retries: h.retries, eta: held ? h.eta : undefined, redelivered: delivery.redelivered || undefined },
        `Task ${h.task}[${h.id}] received`,
      );
    }
    if (!task) {
      this.track(t, this.failUnregistered(t));
      return;
    }
    if (this.controls?.revoked.has(h.id)) {
      this.track(t, this.discardRevoked(t));
      return;
    }
    if (held) {
      this.eta.hold(t, dueAt);
      this.adjustPrefetch();
      return;
    }
    this.execute(t);
  }

  /** The consumer's callback for malformed messages (already dead-lettered by the transport). */
  onInvalid(invalid: InvalidMessage): void {
    this.log.error(
      { err: invalid.error, queue: invalid.queue, deadLetteredTo: invalid.deadLetteredTo, preview: invalid.preview },
      `Received an invalid message on ${invalid.queue} and moved it to ${invalid.deadLetteredTo}: ${invalid.error.message}`,
    );
  }

  /** Stop taking deliveries and hand back what has not started: eta tasks and tasks waiting for a slot. */
  async returnReserved(): Promise<number> {
    this.accepting = false;
    const held = [...this.eta.drain(), ...this.rateHeld.drain()];
    const waiting = this.pool.cancelWaiting();
    // The cancelled pool jobs are requeued by their own handling (see finish).
    await Promise.all(
      held.map((t) =>
        this.reject(t, true).finally(() => {
          this.tracked.delete(t);
          this.controls?.observer?.released(t.delivery);
        }),
      ),
    );
    this.adjustPrefetch();
    return held.length + waiting;
  }

  /** Wait until every started task is done; false when `timeoutMs` passed or `cancel` fired first. */
  async waitIdle(timeoutMs: number, cancel: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0 || cancel.aborted) return false;
      let timer: NodeJS.Timeout | undefined;
      let onCancel: (() => void) | undefined;
      await Promise.race([
        Promise.allSettled([...this.running]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, left);
          onCancel = resolve;
          cancel.addEventListener('abort', onCancel, { once: true });
        }),
      ]);
      clearTimeout(timer);
      if (onCancel) cancel.removeEventListener('abort', onCancel);
    }
    return true;
  }

  /**
   * Cold stop of what still runs: abort each task's signal, give every
   * unacknowledged message back to the broker, and ignore what the tasks do
   * afterwards. Returns how many messages were requeued.
   */
  async abortRunning(reason: Error): Promise<number> {
    const requeues: Promise<void>[] = [];
    for (const t of this.tracked) {
      t.abandoned = true;
      if (!t.settled) {
        t.requeued = true;
        requeues.push(this.reject(t, true));
      }
      t.abort(reason);
    }
    this.tracked.clear();
    this.running.clear();
    await Promise.all(requeues);
    return requeues.length;
  }

  /** Hand a due task to the pool. */
  private execute(t: Tracked): void {
    if (this.controls && this.heldBack(t, this.controls)) return;
    const handling = this.pool
      .apply({
        message: t.delivery.message,
        env: t,
        // Celery's early ack: when the pool accepts the task, before it runs. Sent, not awaited
        // (as an AMQP basic.ack): waiting for Redis here cost a round trip per task.
        onStart: () => {
          if (!t.acksLate) void this.ack(t);
          this.controls?.observer?.started(t.delivery);
        },
      })
      .then((result) => this.finish(t, result));
    this.track(t, handling);
  }

  private track(t: Tracked, handling: Promise<void>): void {
    // One reaction for either outcome (not .catch().finally(): two more promises per task).
    const release = (): void => {
      this.running.delete(p);
      this.tracked.delete(t);
      this.controls?.observer?.released(t.delivery);
    };
    const p: Promise<void> = handling.then(release, (error: unknown) => {
      t.log.error({ err: error }, `Internal error while handling task ${t.delivery.message.headers.task}[${t.delivery.message.headers.id}]; message dead-lettered`);
      return this.reject(t, false).finally(release);
    });
    this.running.add(p);
  }

  /**
   * Act on a pool result: count it, log it, republish a retry, settle the
   * message. Not an async function: a task acked early (the default) has
   * nothing left to wait for, and that path makes no promise.
   */
  private finish(t: Tracked, result: PoolResult): Promise<void> | undefined {
    if (t.abandoned) return undefined;
    if (!result.started) return this.reject(t, true);
    // Terminated in this event loop (async pool): REVOKED was stored; whatever the task did after is moot.
    const outcome: TraceOutcome = t.terminated ? { kind: 'revoked', reason: 'revoked' } : result.outcome;
    const { task: name, id } = t.delivery.message.headers;
    this.processed[name] = (this.processed[name] ?? 0) + 1;
    this.logOutcome(t, outcome);
    this.controls?.observer?.finished(t.delivery, outcome, t.terminated === true);
    if (outcome.kind === 'retry') return this.publishRetry(t, outcome.retryMessage);
    if (outcome.kind === 'reject') {
      if (t.settled) {
        t.log.warn(`Task ${name}[${id}] was acknowledged before it ran (early ack), so Reject cannot hand it back; give the task acksLate: true to use Reject`);
      }
      return this.reject(t, outcome.requeue);
    }
    return t.settled ? undefined : this.ack(t);
  }

  /** Republish a retry, then ack; if it cannot be published, requeue the original (late ack) or say it is lost. */
  private async publishRetry(t: Tracked, retryMessage: TaskMessage): Promise<void> {
    try {
      await this.app.publish(retryMessage, { queue: t.delivery.queue }, DEFAULT_PUBLISH_RETRY_POLICY);
    } catch (error) {
      // Not acked yet (late ack): requeue so the task is not lost. Early-acked: nothing left to do but say so.
      const { task: name, id } = t.delivery.message.headers;
      t.log.error({ err: error, lost: t.settled }, `Could not republish the retry of ${name}[${id}]${t.settled ? '; the retry is lost' : '; the original message is requeued'}`);
      await this.reject(t, true);
      return;
    }
    await this.ack(t);
  }

  // --- revocation and rate limits (issue 7) ---------------------------------

  /** Revoked (before it runs) or rate-limited (held aside until its token is due, like an eta task): true when not run now. */
  private heldBack(t: Tracked, controls: LoopControls): boolean {
    const h = t.delivery.message.headers;
    if (controls.revoked.has(h.id)) {
      this.track(t, this.discardRevoked(t));
      return true;
    }
    if (t.rateAdmitted) return false;
    t.rateAdmitted = true;
    const wait = controls.rateLimiter.acquire(h.task);
    if (wait === 0) return false;
    t.log.debug({ waitMs: wait }, `Task ${h.task}[${h.id}] rate limited: held for ${wait} ms`);
    // Not counted in adjustPrefetch: it keeps its prefetch slot while it waits.
    this.rateHeld.hold(t, Date.now() + wait);
    return true;
  }

  /** A revoked task arrived (or came due): store REVOKED, ack, do not run it (Celery's "Discarding revoked task"). */
  private async discardRevoked(t: Tracked): Promise<void> {
    const message = t.delivery.message;
    const { task: name, id } = message.headers;
    this.log.info({ taskId: id, taskName: name }, `Discarding revoked task: ${name}[${id}]`);
    const ignore = message.headers.ignore_result || this.app.tasks.get(name)?.options.ignoreResult === true;
    if (!ignore) {
      await storeFinalState(this.app, this.backend, message, { hostname: this.options.hostname, queue: t.delivery.queue }, 'REVOKED', new TaskRevokedError('revoked'));
    }
    emitOutcome(this.app, message, { kind: 'revoked', reason: 'revoked' });
    this.controls?.observer?.finished(t.delivery, { kind: 'revoked', reason: 'revoked' }, false);
    await this.ack(t);
  }

  /**
   * Revoke with terminate: stop the running task with this id. Thread and
   * process pools kill it; in the async pool its signal is aborted (the task
   * must honour it to stop), REVOKED ('terminated') is stored at once and its
   * later writes dropped. True when a task with that id was running.
   */
  terminate(taskId: string, options: RevokeOptions = {}): boolean {
    for (const t of this.tracked) {
      if (t.delivery.message.headers.id !== taskId || t.abandoned || t.terminated) continue;
      if (this.eta.remove(t) || this.rateHeld.remove(t)) {
        // Not started yet (eta or rate-limited): discarded as revoked.
        this.track(t, this.discardRevoked(t));
        return true;
      }
      if (this.pool.terminate?.(taskId, options.signal)) return true;
      t.terminated = true;
      const message = t.delivery.message;
      t.log.warn(`Terminating task ${message.headers.task}[${taskId}]: its AbortSignal is aborted (the async pool cannot kill it)`);
      void storeFinalState(this.app, this.backend, message, { hostname: this.options.hostname, queue: t.delivery.queue }, 'REVOKED', new TaskRevokedError('terminated')).catch((error: unknown) =>
        t.log.error({ err: error }, 'could not store REVOKED for a terminated task'),
      );
      emitOutcome(this.app, message, { kind: 'revoked', reason: 'revoked' }, true);
      t.abort(new TaskRevokedError('terminated'));
      return true;
    }
    return false;
  }

  /** A task name this app does not know: store FAILURE NotRegistered, ack, keep going (Celery does the same). */
  private async failUnregistered(t: Tracked): Promise<void> {
    const { task: name, id } = t.delivery.message.headers;
    t.log.error(
      { queue: t.delivery.queue, registered: this.app.tasks.names() },
      `Received unregistered task of type ${JSON.stringify(name)} [${id}]: the message is acked and the task marked FAILURE (NotRegistered). Register it with app.task(${JSON.stringify(name)}, fn) in the app the worker loads.`,
    );
    await traceTask(this.app, t.delivery.message, { hostname: this.options.hostname, queue: t.delivery.queue, backend: this.backend });
    await this.ack(t);
  }

  private logOutcome(t: Tracked, outcome: TraceOutcome): void {
    if (outcome.kind === 'success' && !this.log.isLevelEnabled('info')) return;
    const { task: name, id } = t.delivery.message.headers;
    const label = `${name}[${id}]`;
    switch (outcome.kind) {
      case 'success': {
        const runtime = outcome.runtimeMs / 1000;
        this.log.info({ taskId: id, taskName: name, runtime }, `Task ${label} succeeded in ${runtime.toFixed(4)}s`);
        return;
      }
      case 'failure': {
        const runtime = outcome.runtimeMs / 1000;
        t.log.error({ err: outcome.error, excType: outcome.excType, runtime }, `Task ${label} failed in ${runtime.toFixed(4)}s: ${outcome.excType}: ${errorMessage(outcome.error)}`);
        return;
      }
      case 'retry':
        t.log.info({ countdown: outcome.countdown, retries: outcome.retryMessage.headers.retries, eta: outcome.retryMessage.headers.eta }, `Task ${label} retry: ${outcome.reason.message}`);
        return;
      case 'revoked':
        t.log.info({ reason: outcome.reason }, `Task ${label} ${outcome.reason === 'expired' ? 'expired' : 'revoked'}: discarded and marked REVOKED`);
        return;
      case 'reject':
        t.log.warn({ requeue: outcome.requeue, reason: outcome.reason }, `Task ${label} rejected${outcome.requeue ? ' and requeued' : ''}: ${outcome.reason}`);
        return;
      case 'ignored':
        t.log.info({ runtime: outcome.runtimeMs / 1000 }, `Task ${label} ignored`);
        return;
    }
  }

  /** Ack; never rejects (a failure is logged). Not an async function: this runs for every task. */
  private ack(t: Tracked): Promise<void> {
    if (t.settled) return SETTLED;
    t.settled = true;
    let acked: Promise<void>;
    try {
      acked = t.delivery.ack();
    } catch (error) {
      ackFailed(t, error);
      return SETTLED;
    }
    return acked.then(undefined, (error: unknown) => ackFailed(t, error));
  }

  private async reject(t: Tracked, requeue: boolean): Promise<void> {
    if (t.settled) return;
    t.settled = true;
    try {
      await t.delivery.reject(requeue);
    } catch (error) {
      t.log.error({ err: error, requeue }, 'Could not reject the message; the broker will deliver it again once the connection is gone');
    }
  }

  /**
   * Celery raises the prefetch by one per held eta task so they do not starve
   * the worker of new messages. Rate-limited holds are not counted: raising
   * for them would fetch a whole backlog of a slow-rated task (Celery does not either).
   */
  private adjustPrefetch(): void {
    if (!this.consumer || this.options.prefetch === 0) return;
    this.consumer.setPrefetch(this.options.prefetch + this.eta.size);
  }

}

const SETTLED: Promise<void> = Promise.resolve();

function ackFailed(t: Tracked, error: unknown): void {
  t.log.error({ err: error }, 'Could not ack the message; the broker may deliver it again');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
