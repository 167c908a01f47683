/**
 * A signature: a task name with arguments and options, to be sent later or
 * to travel inside another message (Celery's `Signature`, `task.s()`).
 * Canvas primitives (chain, group, chord) build on it; `toDict()` and
 * {@link Signature.fromDict} convert to and from Celery's signature dicts
 * (`{task, args, kwargs, options, subtask_type, immutable}`), so a signature
 * built in Python can be sent by taskq and the other way round.
 */
import type { AsyncResult } from './async-result.js';
import { Chain } from './canvas.js';
import { isCanvasSender, sendSignature } from './canvas-send.js';
import { DecodeError, InvalidTaskOptionsError } from './errors.js';
import type { SignatureDict } from './message.js';
import type { ApplyOptions } from './task-options.js';

export interface SignatureSender {
  sendTask(name: string, args: unknown[], kwargs: Record<string, unknown>, options: ApplyOptions): Promise<AsyncResult<unknown>>;
}

/** Options of a signature: call options plus the canvas ones (callbacks, errbacks). */
export interface SignatureOptions extends ApplyOptions {
  /** Signatures applied with this task's result when it succeeds (Celery's `link`). */
  link?: readonly Signature<any, any>[];
  /** Signatures applied with this task's id when it fails (Celery's `link_error`). */
  linkError?: readonly Signature<any, any>[];
}

/** Any signature, whatever its result and input types (for containers such as groups). */
export type AnySignature = Signature<any, any>;

/** Celery option name (snake_case) → taskq's ApplyOptions name, for the options a signature dict carries. */
const OPTION_NAMES: ReadonlyArray<readonly [keyof ApplyOptions, string]> = [
  ['taskId', 'task_id'],
  ['queue', 'queue'],
  ['routingKey', 'routing_key'],
  ['exchange', 'exchange'],
  ['countdown', 'countdown'],
  ['eta', 'eta'],
  ['expires', 'expires'],
  ['priority', 'priority'],
  ['headers', 'headers'],
  ['ignoreResult', 'ignore_result'],
  ['timeLimit', 'time_limit'],
  ['softTimeLimit', 'soft_time_limit'],
  ['shadow', 'shadow'],
  ['parentId', 'parent_id'],
  ['rootId', 'root_id'],
];
const KNOWN_DICT_OPTIONS = new Set([...OPTION_NAMES.map(([, snake]) => snake), 'link', 'link_error']);

/**
 * A task call to make later. `R` is the task's result type; `In` the type of
 * the first parameter, which receives the parent's result when the signature
 * follows another task in a chain (partial application) — `unknown` for an
 * immutable signature, whose arguments are never extended.
 */
export class Signature<R = unknown, In = unknown> {
  /** Type-level only: makes `In` checked contravariantly, so chain() refuses a step that cannot take the previous result. */
  declare readonly __input?: (input: In) => void;
  /** Type-level only: the result type. */
  declare readonly __result?: R;

  /**
   * @param extraOptions Celery options taskq does not model (e.g. `reply_to`, `group_id`
   *   from a Python-built signature); written back unchanged by `toDict()`.
   */
  constructor(
    readonly task: string,
    readonly args: readonly unknown[],
    readonly kwargs: Readonly<Record<string, unknown>>,
    readonly options: Readonly<SignatureOptions>,
    readonly immutable: boolean,
    private readonly sender: SignatureSender | undefined,
    readonly extraOptions: Readonly<Record<string, unknown>> = {},
    readonly subtaskType: string | null = null,
  ) {}

  /** The app (or sender) this signature sends through, if bound. */
  get app(): SignatureSender | undefined {
    return this.sender;
  }

  /** A copy with more call options (`queue`, `countdown`, `taskId`, `link`, …). */
  set(options: SignatureOptions): Signature<R, In> {
    return this.with({ options: { ...this.options, ...options } });
  }

  /** A copy bound to `sender` (an App), e.g. for a signature parsed from a message. */
  bind(sender: SignatureSender): Signature<R, In> {
    return this.with({ sender });
  }

  /** A copy with more arguments appended (and kwargs merged), as Celery's `sig.clone(args)`. */
  clone(args: readonly unknown[] = [], kwargs: Record<string, unknown> = {}): Signature<R, In> {
    return this.with({ args: [...this.args, ...args], kwargs: { ...this.kwargs, ...kwargs } });
  }

  /** A copy that ignores its parent's result (Celery's `sig.set(immutable=True)`, `task.si()`). */
  asImmutable(): Signature<R, unknown> {
    return this.with({ immutable: true }) as Signature<R, unknown>;
  }

  /** Also apply `callback` with this task's result when it succeeds (Celery's `link`). Returns a copy. */
  link(callback: Signature<any, R>): Signature<R, In> {
    return this.set({ link: [...(this.options.link ?? []), callback] });
  }

  /** Apply `errback` with this task's id when it fails (Celery's `link_error`). Returns a copy. */
  onError(errback: AnySignature): Signature<R, In> {
    return this.set({ linkError: [...(this.options.linkError ?? []), errback] });
  }

  /** A chain of this signature then `next`, which gets this one's result (Celery's `a | b`). */
  pipe<R2>(next: Signature<R2, R>): Chain<R2> {
    return new Chain<R2>([this as AnySignature, next]);
  }

  /** Alias of {@link onError}, Celery's name. */
  linkError(errback: AnySignature): Signature<R, In> {
    return this.onError(errback);
  }

  /**
   * Send the signature; `extraArgs` are prepended unless the signature is
   * immutable (a parent's result). Links and errbacks travel in the message's
   * embed, as Celery's.
   */
  async applyAsync(extraArgs: readonly unknown[] = [], options: SignatureOptions = {}): Promise<AsyncResult<R>> {
    if (!this.sender) throw new InvalidTaskOptionsError(`signature ${this.task} is not bound to an app; create it with task.s(), app.signature() or sig.bind(app)`);
    const sig = Object.keys(options).length > 0 ? this.set(options) : this;
    if (isCanvasSender(this.sender)) return (await sendSignature(this.sender, sig, extraArgs)) as AsyncResult<R>;
    // A plain sender (not an App) has no embed to carry links.
    const args = sig.immutable ? [...sig.args] : [...extraArgs, ...sig.args];
    const { link: _link, linkError: _linkError, ...callOptions } = sig.options;
    return (await this.sender.sendTask(sig.task, args, { ...sig.kwargs }, callOptions)) as AsyncResult<R>;
  }

  delay(...extraArgs: unknown[]): Promise<AsyncResult<R>> {
    return this.applyAsync(extraArgs);
  }

  /** Celery's serialised form, as it appears in a message's `embed`. */
  toDict(): SignatureDict {
    const options: Record<string, unknown> = { ...this.extraOptions };
    const o = this.options as Record<string, unknown>;
    for (const [camel, snake] of OPTION_NAMES) {
      const v = o[camel];
      if (v === undefined) continue;
      options[snake] = v instanceof Date ? v.toISOString() : v;
    }
    if (this.options.link?.length) options.link = this.options.link.map((s) => s.toDict());
    if (this.options.linkError?.length) options.link_error = this.options.linkError.map((s) => s.toDict());
    return {
      task: this.task,
      args: [...this.args],
      kwargs: { ...this.kwargs },
      options,
      subtask_type: this.subtaskType,
      immutable: this.immutable,
    };
  }

  toJSON(): SignatureDict {
    return this.toDict();
  }

  /**
   * A signature from Celery's dict form (from a message's embed, or built by
   * Python). Options taskq models become {@link SignatureOptions}; the rest
   * are kept in `extraOptions` and written back unchanged.
   */
  static fromDict<R = unknown>(dict: unknown, sender?: SignatureSender): Signature<R, unknown> {
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict) || typeof (dict as SignatureDict).task !== 'string') {
      throw new DecodeError('signature', 'expected an object with a "task" name (a Celery signature dict)');
    }
    const d = dict as Partial<SignatureDict>;
    const raw = (d.options && typeof d.options === 'object' ? d.options : {}) as Record<string, unknown>;
    const options: Record<string, unknown> = {};
    for (const [camel, snake] of OPTION_NAMES) if (raw[snake] !== undefined && raw[snake] !== null) options[camel] = raw[snake];
    const links = toList(raw.link);
    const errbacks = toList(raw.link_error);
    if (links.length > 0) options.link = links.map((s) => Signature.fromDict(s, sender));
    if (errbacks.length > 0) options.linkError = errbacks.map((s) => Signature.fromDict(s, sender));
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) if (!KNOWN_DICT_OPTIONS.has(k)) extra[k] = v;
    return new Signature<R, unknown>(
      d.task as string,
      Array.isArray(d.args) ? d.args : [],
      d.kwargs && typeof d.kwargs === 'object' ? d.kwargs : {},
      options as SignatureOptions,
      d.immutable === true,
      sender,
      extra,
      typeof d.subtask_type === 'string' ? d.subtask_type : null,
    );
  }

  private with(change: {
    args?: readonly unknown[];
    kwargs?: Record<string, unknown>;
    options?: SignatureOptions;
    immutable?: boolean;
    sender?: SignatureSender;
  }): Signature<R, In> {
    return new Signature<R, In>(
      this.task,
      change.args ?? this.args,
      change.kwargs ?? this.kwargs,
      change.options ?? this.options,
      change.immutable ?? this.immutable,
      change.sender ?? this.sender,
      this.extraOptions,
      this.subtaskType,
    );
  }
}

/** Celery accepts one signature or a list where a list is expected (`link=sig`). */
function toList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}
