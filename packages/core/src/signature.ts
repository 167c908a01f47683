/**
 * A signature: a task name with arguments and options, to be sent later or
 * to travel inside another message (Celery's `Signature`, `task.s()`).
 * Canvas primitives (chain, group, chord) build on it.
 */
import type { AsyncResult } from './async-result.js';
import type { SignatureDict } from './message.js';
import type { ApplyOptions } from './task-options.js';

export interface SignatureSender {
  sendTask(name: string, args: unknown[], kwargs: Record<string, unknown>, options: ApplyOptions): Promise<AsyncResult<unknown>>;
}

export class Signature<R = unknown> {
  constructor(
    readonly task: string,
    readonly args: readonly unknown[],
    readonly kwargs: Readonly<Record<string, unknown>>,
    readonly options: Readonly<ApplyOptions>,
    readonly immutable: boolean,
    private readonly sender: SignatureSender | undefined,
  ) {}

  /** A copy with more call options (`queue`, `countdown`, …). */
  set(options: ApplyOptions): Signature<R> {
    return new Signature<R>(this.task, this.args, this.kwargs, { ...this.options, ...options }, this.immutable, this.sender);
  }

  /** Send the signature; `extraArgs` are prepended unless the signature is immutable (a parent's result). */
  async applyAsync(extraArgs: readonly unknown[] = [], options: ApplyOptions = {}): Promise<AsyncResult<R>> {
    if (!this.sender) throw new Error(`signature ${this.task} is not bound to an app; create it with task.s() or app.signature()`);
    const args = this.immutable ? [...this.args] : [...extraArgs, ...this.args];
    return (await this.sender.sendTask(this.task, args, { ...this.kwargs }, { ...this.options, ...options })) as AsyncResult<R>;
  }

  delay(...extraArgs: unknown[]): Promise<AsyncResult<R>> {
    return this.applyAsync(extraArgs);
  }

  /** Celery's serialised form, as it appears in a message's `embed`. */
  toDict(): SignatureDict {
    const options: Record<string, unknown> = {};
    const o = this.options;
    if (o.taskId !== undefined) options.task_id = o.taskId;
    if (o.queue !== undefined) options.queue = o.queue;
    if (o.countdown !== undefined) options.countdown = o.countdown;
    if (o.priority !== undefined) options.priority = o.priority;
    if (o.routingKey !== undefined) options.routing_key = o.routingKey;
    return {
      task: this.task,
      args: [...this.args],
      kwargs: { ...this.kwargs },
      options,
      subtask_type: null,
      immutable: this.immutable,
    };
  }

  toJSON(): SignatureDict {
    return this.toDict();
  }
}
