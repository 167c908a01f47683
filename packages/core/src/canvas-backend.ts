/**
 * What the result backend does for workflows (celery-protocol.md §4.3):
 * group results saved under `celery-taskset-meta-<gid>`, and chord header
 * completion counted per group as Celery's Redis backend counts it, so a
 * Celery chord whose header runs on taskq fires (and the other way round).
 */
import { TaskqError } from './errors.js';
import type { TaskState } from './result-backend.js';

/** The key prefix of saved groups and chord counters (Celery's `celery-taskset-meta-`). */
export const GROUP_KEY_PREFIX = 'celery-taskset-meta-';

/** One finished chord header member, as recorded by the backend. */
export interface ChordPart {
  groupId: string;
  taskId: string;
  /** Position in the header (`headers.group_index`); null sorts last, as Celery's `+inf`. */
  groupIndex: number | null;
  state: TaskState;
  /** The return value (SUCCESS) or Celery's exception object (FAILURE). */
  result: unknown;
}

/** A recorded part, as read back when the header is complete. */
export interface ChordPartResult {
  taskId: string;
  state: TaskState;
  result: unknown;
}

/** After a part is recorded: whether the header is now complete, with every part in group_index order. */
export type ChordPartOutcome = { complete: false } | { complete: true; parts: ChordPartResult[] };

/** Celery's saved GroupResult: `{"result": [[gid, null], [[[id, null], null], …]]}`. */
export interface GroupMeta {
  result: [[string, unknown], Array<[[string, unknown], unknown]>];
  [extra: string]: unknown;
}

/** The value `GroupResult.save()` stores for a group of task ids. */
export function groupMetaFor(groupId: string, taskIds: readonly string[]): GroupMeta {
  return { result: [[groupId, null], taskIds.map((id) => [[id, null], null] as [[string, unknown], unknown])] };
}

/** The member task ids of a saved group (nested groups are flattened to their own ids). */
export function taskIdsOfGroupMeta(meta: GroupMeta): string[] {
  const members = Array.isArray(meta.result) && Array.isArray(meta.result[1]) ? meta.result[1] : [];
  return members.map((m) => (Array.isArray(m) && Array.isArray(m[0]) ? String(m[0][0]) : String(m)));
}

/** A chord's callback could not run because a header task failed (Celery's `celery.exceptions.ChordError`). */
export class ChordError extends TaskqError {
  constructor(message: string) {
    super('TASKQ_ERR_CHORD', message);
  }
}

/** The result backend cannot count chord parts (it lacks `onChordPartReturn`). */
export class ChordUnsupportedError extends TaskqError {
  constructor(backend: string) {
    super('TASKQ_ERR_CHORD_UNSUPPORTED', `the ${backend} result backend cannot run chords; use a redis:// or memory:// result backend`);
  }
}
