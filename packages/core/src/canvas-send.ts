/**
 * The send path of workflows: a signature becomes a protocol v2 message whose
 * embed carries its callbacks, errbacks, the rest of its chain and its chord
 * callback (celery-protocol.md §1.3), with group headers where it is part of
 * a group. Used by the client (chain/group/chord) and by the worker when it
 * sends the next step of a workflow.
 */
import type { App } from './app.js';
import { AsyncResult, type ResultSource } from './async-result.js';
import type { PublishRoute } from './broker.js';
import { InvalidTaskOptionsError } from './errors.js';
import { MemoryResultBackend } from './memory/memory-result-backend.js';
import type { SignatureDict, TaskMessage } from './message.js';
import { DEFAULT_PUBLISH_RETRY_POLICY } from './retry-policy.js';
import type { AnySignature, SignatureSender } from './signature.js';
import { validateApplyOptions } from './task-options.js';

/** Where a signature sits in a workflow: set by chain/group/chord and by the worker. */
export interface SendExtras {
  /** The task that sent this one (overrides the signature's own `parentId`). */
  parentId?: string;
  rootId?: string;
  /** The rest of the chain, in reverse order (the worker pops from the end). */
  chain?: SignatureDict[] | null;
  /** The chord callback, for a chord header member. */
  chord?: SignatureDict | null;
  group?: string | null;
  groupIndex?: number | null;
}

/** True when `sender` is a taskq App (it can build and publish full messages). */
export function isCanvasSender(sender: SignatureSender): sender is App {
  const s = sender as Partial<App>;
  return typeof s.buildMessage === 'function' && typeof s.publish === 'function' && s.conf !== undefined;
}

/** Build the message of a signature (nothing is sent): args = prepend + the signature's own, unless immutable. */
export function buildSignatureMessage(
  app: App,
  sig: AnySignature,
  prepend: readonly unknown[] = [],
  extras: SendExtras = {},
): { message: TaskMessage; route: PublishRoute } {
  const { link, linkError, ...callOptions } = sig.options;
  if (extras.parentId !== undefined) callOptions.parentId = extras.parentId;
  if (extras.rootId !== undefined) callOptions.rootId = extras.rootId;
  validateApplyOptions(callOptions);
  const args = sig.immutable ? [...sig.args] : [...prepend, ...sig.args];
  if (!Array.isArray(sig.args)) throw new InvalidTaskOptionsError(`signature ${sig.task}: args must be an array`);
  const task = app.tasks.get(sig.task);
  const message = app.buildMessage(sig.task, args, { ...sig.kwargs }, callOptions, task?.options);
  const [, , embed] = message.body;
  embed.callbacks = link?.length ? link.map((s) => s.toDict()) : null;
  embed.errbacks = linkError?.length ? linkError.map((s) => s.toDict()) : null;
  embed.chain = extras.chain ?? null;
  embed.chord = extras.chord ?? null;
  // A Python-built signature may carry its group in its options (Celery's `group_id`, `group_index`).
  const group = extras.group ?? (sig.extraOptions.group_id as string | undefined) ?? null;
  const groupIndex = extras.groupIndex ?? (sig.extraOptions.group_index as number | undefined) ?? null;
  message.headers.group = group;
  message.headers.group_index = group === null ? null : groupIndex;
  const route: PublishRoute = { queue: callOptions.queue ?? task?.options.queue ?? app.conf.defaultQueue };
  if (callOptions.routingKey !== undefined) route.routingKey = callOptions.routingKey;
  if (callOptions.exchange !== undefined) route.exchange = callOptions.exchange;
  return { message, route };
}

/** Send a signature as part of a workflow; in eager mode it runs at once, with its whole workflow. */
export async function sendSignature(app: App, sig: AnySignature, prepend: readonly unknown[] = [], extras: SendExtras = {}): Promise<AsyncResult<unknown>> {
  const { message, route } = buildSignatureMessage(app, sig, prepend, extras);
  if (app.conf.taskAlwaysEager) return app.applyEager(message);
  const policy = sig.options.retry === false ? undefined : { ...DEFAULT_PUBLISH_RETRY_POLICY, ...sig.options.retryPolicy };
  await app.publish(message, route, policy);
  return new AsyncResult(message.headers.id, app);
}

/** Where results of `app`'s tasks are read: its backend, or in eager mode the in-process eager store. */
export function resultSourceFor(app: App): ResultSource {
  if (!app.conf.taskAlwaysEager) return app;
  // Memory stores are shared by URL: this is the store App.applyEager writes to.
  return { getBackend: async () => new MemoryResultBackend(`memory://eager-${app.oid}`, { resultExpires: app.conf.resultExpires }) };
}

/** The backend workflows count chords in: the eager store in eager mode. */
export function workflowBackend(app: App) {
  return resultSourceFor(app).getBackend();
}
