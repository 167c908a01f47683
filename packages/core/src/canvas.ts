/**
 * Workflows (Celery's canvas): `chain`, `group`, `chord`, and the `map`,
 * `starmap`, `chunks` helpers — sent exactly as Celery sends them, so a
 * workflow can cross between taskq and Python workers (celery-protocol.md §1.3).
 */
import { randomUUID } from 'node:crypto';
import type { App } from './app.js';
import type { AsyncResult } from './async-result.js';
import { ChordUnsupportedError } from './canvas-backend.js';
import { isCanvasSender, resultSourceFor, sendSignature, workflowBackend } from './canvas-send.js';
import { AsyncResult as AsyncResultClass } from './async-result.js';
import { InvalidTaskOptionsError } from './errors.js';
import { GroupResult } from './group-result.js';
import { type AnySignature, Signature, type SignatureOptions } from './signature.js';

/** The result type of a signature. */
export type SignatureResult<S> = S extends Signature<infer R, any> ? R : never;
/** The type a signature's first parameter accepts (the parent's result in a chain). */
export type SignatureInput<S> = S extends Signature<any, infer In> ? In : never;
type Last<T extends readonly unknown[]> = T extends readonly [...unknown[], infer L] ? L : T[number];
/** The tuple of result types of a list of signatures. */
export type ResultsOf<S extends readonly unknown[]> = { -readonly [K in keyof S]: SignatureResult<S[K]> };

/**
 * Checks a chain's steps: each mutable step's first parameter must accept the
 * previous step's result. A step that does not is replaced by the type it should
 * have, so the call fails to compile at that argument.
 */
export type ValidChain<S extends readonly unknown[], Prev = never> = S extends readonly [infer H, ...infer T]
  ? [[Prev] extends [SignatureInput<H>] ? H : Signature<SignatureResult<H>, Prev>, ...ValidChain<T, SignatureResult<H>>]
  : S;

function appOf(sigs: readonly AnySignature[], what: string): App {
  for (const s of sigs) if (s.app && isCanvasSender(s.app)) return s.app;
  throw new InvalidTaskOptionsError(`${what}: no signature is bound to an app; build them with task.s() / app.signature(), or bind one with sig.bind(app)`);
}

/** A copy with a task id (and the app's reply_to, as Celery writes both) so the id is known before sending. */
function freeze(sig: AnySignature, app: App, taskId?: string): AnySignature {
  const id = sig.options.taskId ?? taskId ?? randomUUID();
  const extra = { reply_to: app.oid, ...sig.extraOptions };
  return new Signature(sig.task, sig.args, sig.kwargs, { ...sig.options, taskId: id }, sig.immutable, sig.app ?? app, extra, sig.subtaskType);
}

/** Split canvas options (callbacks) from the call options applied to every member. */
function callOptions(options: SignatureOptions): SignatureOptions {
  const { link: _l, linkError: _e, taskId: _t, ...rest } = options;
  return rest;
}

/**
 * Steps run one after the other, each getting the previous result as first
 * argument (unless immutable). Its result is the last step's.
 */
export class Chain<R = unknown> {
  constructor(
    readonly tasks: readonly AnySignature[],
    readonly options: Readonly<SignatureOptions> = {},
  ) {
    if (tasks.length === 0) throw new InvalidTaskOptionsError('chain() needs at least one signature');
  }

  /** A longer chain: `next` gets this chain's result. */
  pipe<R2>(next: Signature<R2, R>): Chain<R2> {
    return new Chain<R2>([...this.tasks, next], this.options);
  }

  /** Apply `callback` with the chain's result (linked to the last step). */
  link(callback: Signature<any, R>): Chain<R> {
    return new Chain<R>([...this.tasks.slice(0, -1), (this.tasks.at(-1) as AnySignature).link(callback)], this.options);
  }

  /** Apply `errback` with the failed step's id when any step fails (Celery links it to every step). */
  onError(errback: AnySignature): Chain<R> {
    return new Chain<R>(
      this.tasks.map((t) => t.onError(errback)),
      this.options,
    );
  }

  /**
   * Send the chain: the first step carries the rest in its embed (reversed,
   * with pre-assigned ids). Resolves with the last step's result handle.
   * `args` are prepended to the first step's (partial application).
   */
  async applyAsync(args: readonly unknown[] = [], options: SignatureOptions = {}): Promise<AsyncResult<R>> {
    const app = appOf(this.tasks, 'chain');
    const merged = callOptions({ ...this.options, ...options });
    const steps = this.tasks.map((t) => freeze(t, app));
    const [first, ...rest] = steps as [AnySignature, ...AnySignature[]];
    const chainDicts = rest.map((s) => s.toDict()).reverse();
    await sendSignature(app, first.set(merged), args, { chain: chainDicts.length > 0 ? chainDicts : null });
    // The last step's handle, each step's `parent` the one before it (Celery's result.parent).
    const source = resultSourceFor(app);
    let result: AsyncResult<unknown> | undefined;
    for (const step of steps) result = new AsyncResultClass<unknown>(step.options.taskId as string, source, result);
    return result as AsyncResult<R>;
  }

  delay(...args: unknown[]): Promise<AsyncResult<R>> {
    return this.applyAsync(args);
  }
}

/**
 * `chain(a.s(1, 2), b.s(10), c.s())`: run a, then b(resultOfA, 10), then
 * c(resultOfB). A step whose first parameter cannot take the previous result
 * is a compile error; use `.si()` for a step that ignores it.
 */
export function chain<S extends [AnySignature, ...AnySignature[]]>(...steps: S & ValidChain<S>): Chain<SignatureResult<Last<S>>> {
  return new Chain(steps as readonly AnySignature[]);
}

/** Tasks run in parallel; the result is a {@link GroupResult} of their results in order. */
export class Group<T extends readonly unknown[] = unknown[]> {
  constructor(
    readonly tasks: readonly AnySignature[],
    readonly options: Readonly<SignatureOptions> = {},
  ) {}

  /** Send every member with the group's id in `headers.group`; `args` are prepended to each member's. */
  async applyAsync(args: readonly unknown[] = [], options: SignatureOptions = {}): Promise<GroupResult<T>> {
    const groupId = options.taskId ?? this.options.taskId ?? randomUUID();
    if (this.tasks.length === 0) {
      // Celery returns an empty GroupResult for an empty group: nothing to send.
      return new GroupResult<T>(groupId, [], { getBackend: () => Promise.reject(new InvalidTaskOptionsError('an empty group has no app')) });
    }
    const app = appOf(this.tasks, 'group');
    const merged = callOptions({ ...this.options, ...options });
    const results: AsyncResult<unknown>[] = [];
    for (const t of this.tasks) {
      results.push(await sendSignature(app, freeze(t, app).set(merged), args, { group: groupId, groupIndex: null }));
    }
    return new GroupResult<T>(groupId, results, resultSourceFor(app));
  }

  delay(...args: unknown[]): Promise<GroupResult<T>> {
    return this.applyAsync(args);
  }
}

/** `group([a.s(1), b.s(2)])`: run the signatures in parallel. */
export function group<S extends readonly AnySignature[]>(tasks: readonly [...S]): Group<ResultsOf<S>> {
  return new Group<ResultsOf<S>>(tasks);
}

/**
 * A group (the header) whose results, in order, go to one callback (the
 * body) once every member finished. Counted in the result backend as Celery's
 * Redis backend counts it; a failed member fails the body with ChordError.
 */
export class Chord<R = unknown> {
  constructor(
    readonly header: readonly AnySignature[],
    readonly body: AnySignature,
    readonly options: Readonly<SignatureOptions> = {},
  ) {}

  /** Send the header (with the body in each member's embed). Resolves with the body's result handle. */
  async applyAsync(args: readonly unknown[] = [], options: SignatureOptions = {}): Promise<AsyncResult<R>> {
    const app = appOf([this.body, ...this.header], 'chord');
    const groupId = options.taskId ?? this.options.taskId ?? randomUUID();
    const merged = callOptions({ ...this.options, ...options });
    const body = freeze(this.body, app);
    const source = resultSourceFor(app);
    const bodyId = body.options.taskId as string;
    if (this.header.length === 0) {
      // No header task will ever complete the chord: Celery calls the body at once with [].
      await sendSignature(app, body, [[]]);
      return new AsyncResultClass<R>(bodyId, source);
    }
    const backend = await workflowBackend(app);
    if (!backend.onChordPartReturn) throw new ChordUnsupportedError(backend.backend);
    await backend.setChordSize?.(groupId, this.header.length);
    const bodyDict = body.toDict();
    for (const [i, t] of this.header.entries()) {
      await sendSignature(app, freeze(t, app).set(merged), args, { group: groupId, groupIndex: i, chord: bodyDict });
    }
    return new AsyncResultClass<R>(bodyId, source);
  }

  delay(...args: unknown[]): Promise<AsyncResult<R>> {
    return this.applyAsync(args);
  }
}

/**
 * `chord([a.s(1), a.s(2)], merge.s())`: run the header in parallel, then
 * `merge([r1, r2])`. The body's first parameter must accept the header's results.
 */
export function chord<S extends readonly AnySignature[], R>(header: readonly [...S] | Group<ResultsOf<S>>, body: Signature<R, ResultsOf<S>>): Chord<R> {
  const tasks = header instanceof Group ? header.tasks : (header as readonly AnySignature[]);
  return new Chord<R>(tasks, body);
}

/** The task Celery's `celery.map` / `celery.starmap` / `celery.chunks` run, as a signature dict in their kwargs. */
function builtinSignature<R>(name: string, kwargs: Record<string, unknown>, app: App): Signature<R, unknown> {
  return new Signature<R, unknown>(name, [], kwargs, {}, true, app);
}

/**
 * One task that runs `task` on each item in the worker, in turn (Celery's
 * `task.map(items)`, the `celery.map` built-in). The result is the list of results.
 */
export function map<R, A>(task: Signature<R, A>, items: readonly A[]): Signature<R[], unknown> {
  return builtinSignature<R[]>('celery.map', { task: task.toDict(), it: [...items] }, appOf([task], 'map'));
}

/** As {@link map} with each item an argument list (Celery's `task.starmap(items)`, `celery.starmap`). */
export function starmap<R>(task: Signature<R, any>, items: readonly (readonly unknown[])[]): Signature<R[], unknown> {
  return builtinSignature<R[]>('celery.starmap', { task: task.toDict(), it: items.map((i) => [...i]) }, appOf([task], 'starmap'));
}

/**
 * Split `items` (argument lists) into chunks of `size`: a group of
 * `celery.starmap` tasks, one per chunk (Celery's `task.chunks(items, n)`).
 * Its result is a list of lists of results.
 */
export class Chunks<R> {
  constructor(
    readonly task: Signature<R, any>,
    readonly items: readonly (readonly unknown[])[],
    readonly size: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new InvalidTaskOptionsError(`chunks(): size must be a positive integer, got ${size}`);
  }

  /** The group of starmap tasks, one per chunk. */
  group(): Group<R[][]> {
    const parts: AnySignature[] = [];
    for (let i = 0; i < this.items.length; i += this.size) parts.push(starmap(this.task, this.items.slice(i, i + this.size)));
    return new Group<R[][]>(parts);
  }

  /** Send the chunks as a group. */
  applyAsync(options: SignatureOptions = {}): Promise<GroupResult<R[][]>> {
    return this.group().applyAsync([], options);
  }

  /** The `celery.chunks` signature: one task that sends the chunks' group from the worker. */
  toSignature(): Signature<unknown, unknown> {
    return builtinSignature('celery.chunks', { task: this.task.toDict(), it: this.items.map((i) => [...i]), n: this.size }, appOf([this.task], 'chunks'));
  }
}

/** `chunks(add.s(), [[1, 2], [3, 4], [5, 6]], 2)`: two starmap tasks, of two and one calls. */
export function chunks<R>(task: Signature<R, any>, items: readonly (readonly unknown[])[], size: number): Chunks<R> {
  return new Chunks<R>(task, items, size);
}
