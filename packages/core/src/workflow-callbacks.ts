/**
 * What a finished task does for its workflow, as Celery's worker does
 * (`app/trace.py`, `backends/base.py`): on success apply its callbacks (link)
 * and the next step of its chain with the result prepended; on failure mark
 * the rest of its chain failed and apply its errbacks (link_error) with the
 * failed task's id; in both cases count it as a chord header member and,
 * when it is the last one, send the chord's callback — or fail it with
 * ChordError. Runs in the worker and in eager mode.
 */
import type { App } from './app.js';
import type { ChordPartResult } from './canvas-backend.js';
import { sendSignature } from './canvas-send.js';
import { serializeError } from './exception-info.js';
import type { SignatureDict, TaskMessage } from './message.js';
import { pythonRepr } from './python-repr.js';
import type { ExceptionInfo, ResultBackend, ResultMeta, TaskState } from './result-backend.js';
import { Signature } from './signature.js';
import { toNaiveUtcIso } from './time.js';

/** The part of a trace outcome workflows act on. */
export type WorkflowOutcome = { kind: 'success'; value: unknown } | { kind: 'failure'; error: unknown } | { kind: string };

/** True when the message is part of a workflow (cheap: checked for every task). */
export function hasWorkflow(message: TaskMessage): boolean {
  const embed = message.body[2];
  return embed !== undefined && embed !== null && (embed.callbacks != null || embed.errbacks != null || embed.chain != null || embed.chord != null);
}

/**
 * Act on a finished task's workflow. Errors sending the next steps are logged
 * (the task's own outcome stands, as in Celery); in eager mode they are thrown,
 * so an eagerly run workflow fails where it broke.
 */
export async function runWorkflowCallbacks(app: App, message: TaskMessage, outcome: WorkflowOutcome, backend: ResultBackend | undefined, eager = false): Promise<void> {
  if (!hasWorkflow(message) || (outcome.kind !== 'success' && outcome.kind !== 'failure')) return;
  try {
    const store = backend ?? (await app.getBackend());
    if (outcome.kind === 'success') await onSuccess(app, message, (outcome as { value: unknown }).value, store);
    else await onFailure(app, message, (outcome as { error: unknown }).error, store);
  } catch (error) {
    if (eager) throw error;
    app.log.error({ err: error, taskId: message.headers.id, taskName: message.headers.task }, 'could not run the workflow after a task (chain, callbacks or chord)');
  }
}

async function onSuccess(app: App, message: TaskMessage, value: unknown, backend: ResultBackend): Promise<void> {
  const h = message.headers;
  const [, , embed] = message.body;
  const parent = { parentId: h.id, rootId: h.root_id };
  for (const cb of embed.callbacks ?? []) await sendSignature(app, Signature.fromDict(cb, app), [value], parent);
  if (embed.chain && embed.chain.length > 0) {
    // The chain travels reversed: the next step is the last element.
    const rest = [...embed.chain];
    const next = rest.pop() as SignatureDict;
    await sendSignature(app, Signature.fromDict(next, app), [value], { ...parent, chain: rest });
  }
  if (embed.chord && h.group) await chordPart(app, message, 'SUCCESS', value, backend);
}

async function onFailure(app: App, message: TaskMessage, error: unknown, backend: ResultBackend): Promise<void> {
  const h = message.headers;
  const [, , embed] = message.body;
  const failure = serializeError(error);
  if (embed.chord && h.group) await chordPart(app, message, 'FAILURE', failure.exception, backend);
  // Celery 5.2 marks every remaining step of the chain failed too, so waiting on the chain's result ends.
  for (const step of embed.chain ?? []) {
    const id = (step.options as Record<string, unknown> | undefined)?.task_id;
    if (typeof id !== 'string') continue;
    await backend.store(id, failureMeta(id, failure.exception, failure.traceback, h.id));
  }
  await callErrbacks(app, embed.errbacks ?? [], h.id, h.root_id);
}

/** Errbacks are sent as tasks with the failed task's id as first argument (Celery's old-style errback). */
async function callErrbacks(app: App, errbacks: readonly SignatureDict[], failedId: string, rootId: string): Promise<void> {
  for (const eb of errbacks) await sendSignature(app, Signature.fromDict(eb, app), [failedId], { parentId: failedId, rootId });
}

async function chordPart(app: App, message: TaskMessage, state: TaskState, result: unknown, backend: ResultBackend): Promise<void> {
  const h = message.headers;
  const groupId = h.group as string;
  if (!backend.onChordPartReturn) {
    app.log.error({ taskId: h.id, groupId, backend: backend.backend }, `chord ${groupId}: the ${backend.backend} result backend cannot count chord parts; the chord callback will never run`);
    return;
  }
  const outcome = await backend.onChordPartReturn({ groupId, taskId: h.id, groupIndex: h.group_index, state, result });
  if (!outcome.complete) return;
  const body = Signature.fromDict(message.body[2].chord, app);
  const failed = outcome.parts.find((p) => p.state === 'FAILURE' || p.state === 'REVOKED');
  if (!failed) {
    await sendSignature(app, body, [outcome.parts.map((p) => p.result)], { parentId: h.id, rootId: h.root_id });
    return;
  }
  const bodyId = body.options.taskId;
  const exception: ExceptionInfo = { exc_type: 'ChordError', exc_message: [`Dependency ${failed.taskId} raised ${excRepr(failed)}`], exc_module: 'celery.exceptions' };
  app.log.error({ groupId, failedTaskId: failed.taskId, callbackId: bodyId }, `chord ${groupId} failed: ${exception.exc_message[0]}`);
  if (bodyId) await backend.store(bodyId, failureMeta(bodyId, exception, null, null));
  await callErrbacks(app, (body.options.linkError ?? []).map((s) => s.toDict()), bodyId ?? h.id, h.root_id);
}

/** Python's repr of the failed part's exception, as in Celery's ChordError message: `ValueError('boom')`. */
function excRepr(part: ChordPartResult): string {
  const info = part.result as Partial<ExceptionInfo> | null;
  if (!info || typeof info.exc_type !== 'string') return pythonRepr(part.result);
  const args = Array.isArray(info.exc_message) ? info.exc_message : [info.exc_message];
  return `${info.exc_type}(${args.map((a) => pythonRepr(a)).join(', ')})`;
}

function failureMeta(taskId: string, exception: ExceptionInfo, traceback: string | null, parentId: string | null): ResultMeta {
  const meta: ResultMeta = { status: 'FAILURE', result: exception, traceback, children: [], date_done: toNaiveUtcIso(new Date()), task_id: taskId };
  if (parentId) {
    // Celery's field order: parent_id before task_id.
    delete (meta as Partial<ResultMeta>).task_id;
    meta.parent_id = parentId;
    meta.task_id = taskId;
  }
  return meta;
}
