/** The result of a group: its members' results, in order (Celery's `GroupResult`). */
import { AsyncResult, type GetOptions, type ResultSource } from './async-result.js';
import { groupMetaFor, taskIdsOfGroupMeta } from './canvas-backend.js';
import { TaskqError } from './errors.js';
import type { ResultBackend } from './result-backend.js';

/** The backend cannot save or restore groups. */
export class GroupSaveUnsupportedError extends TaskqError {
  constructor(backend: string) {
    super('TASKQ_ERR_GROUP_SAVE_UNSUPPORTED', `the ${backend} result backend cannot save groups; use a redis:// or memory:// result backend`);
  }
}

/**
 * Results of a group's members. `T` is the tuple (or array) of their result
 * types; `get()` resolves with them in the group's order.
 */
export class GroupResult<T extends readonly unknown[] = unknown[]> {
  constructor(
    readonly id: string,
    readonly results: readonly AsyncResult<unknown>[],
    private readonly source: ResultSource,
  ) {}

  /** Wait for every member; resolves with their results in order, or throws the first failure (unless `propagate: false`). */
  async get(options: GetOptions = {}): Promise<T> {
    return (await Promise.all(this.results.map((r) => r.get(options)))) as unknown as T;
  }

  /** Alias of {@link get}, Celery's name. */
  join(options: GetOptions = {}): Promise<T> {
    return this.get(options);
  }

  /** How many members succeeded (Celery's `completed_count()`). */
  async completedCount(): Promise<number> {
    const states = await this.states();
    return states.filter((s) => s === 'SUCCESS').length;
  }

  /** True once every member is in a ready state (SUCCESS, FAILURE, REVOKED). */
  async ready(): Promise<boolean> {
    return (await Promise.all(this.results.map((r) => r.ready()))).every(Boolean);
  }

  /** True when every member succeeded. */
  async successful(): Promise<boolean> {
    return (await this.states()).every((s) => s === 'SUCCESS');
  }

  /** True when any member failed. */
  async failed(): Promise<boolean> {
    return (await this.states()).some((s) => s === 'FAILURE');
  }

  /** True while any member is not ready yet. */
  async waiting(): Promise<boolean> {
    return !(await this.ready());
  }

  /** Save the member ids under `celery-taskset-meta-<id>` so another process (or Python's `GroupResult.restore`) can find them. */
  async save(): Promise<void> {
    const backend = await this.source.getBackend();
    if (!backend.saveGroup) throw new GroupSaveUnsupportedError(backend.backend);
    await backend.saveGroup(this.id, groupMetaFor(this.id, this.results.map((r) => r.id)));
  }

  /** Remove the saved group (the members' results stay). */
  async delete(): Promise<void> {
    const backend = await this.source.getBackend();
    await backend.deleteGroup?.(this.id);
  }

  /** A group saved by `save()` here or by Python's `GroupResult.save()`; undefined when none is stored. */
  static async restore<T extends readonly unknown[] = unknown[]>(source: ResultSource, groupId: string): Promise<GroupResult<T> | undefined> {
    const backend: ResultBackend = await source.getBackend();
    if (!backend.restoreGroup) throw new GroupSaveUnsupportedError(backend.backend);
    const meta = await backend.restoreGroup(groupId);
    if (!meta) return undefined;
    return new GroupResult<T>(groupId, taskIdsOfGroupMeta(meta).map((id) => new AsyncResult(id, source)), source);
  }

  private states(): Promise<string[]> {
    return Promise.all(this.results.map((r) => r.state));
  }

  toString(): string {
    return this.id;
  }
}
