/**
 * Revoked task ids, as Celery's worker keeps them: a bounded set (the oldest
 * go first past {@link REVOKES_MAX}) whose entries expire after
 * {@link REVOKE_EXPIRES_MS}, optionally persisted to a JSON file
 * (`--statedb`) so a restarted worker still refuses what was revoked.
 *
 * `revoke(app, id, options)` reaches every worker of that app running in this
 * process; broadcasting to other processes is the remote-control mailbox's job.
 */
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type App, ConfigError } from '@taskq/core';

/** Celery's `REVOKES_MAX`. */
export const REVOKES_MAX = 50_000;
/** Celery's `REVOKE_EXPIRES` (3 hours). */
export const REVOKE_EXPIRES_MS = 3 * 60 * 60 * 1000;

/** Options of a revoke (Celery's `revoke(task_id, terminate=False, signal='SIGTERM')`). */
export interface RevokeOptions {
  /** Also stop the task if it is running: abort its signal (async pool), terminate its thread or kill its child. */
  terminate?: boolean;
  /** Signal for the child process when terminating (process pool). Default SIGKILL (Celery defaults to SIGTERM, which a busy JavaScript loop would not act on any sooner). */
  signal?: NodeJS.Signals;
}

/** What the state file holds. */
interface StateFile {
  version: 1;
  /** `[id, revokedAt ms]`, oldest first. */
  revoked: [string, number][];
}

/** Revoked ids with LRU bounding and expiry. Insertion order of the Map is the age order. */
export class RevokedSet {
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly max = REVOKES_MAX,
    private readonly expiresMs = REVOKE_EXPIRES_MS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.ids.size;
  }

  add(id: string, at = this.now()): void {
    this.ids.delete(id);
    this.ids.set(id, at);
    while (this.ids.size > this.max) this.ids.delete(this.ids.keys().next().value!);
  }

  /** Whether `id` is revoked (and not expired). */
  has(id: string): boolean {
    const at = this.ids.get(id);
    if (at === undefined) return false;
    if (this.now() - at >= this.expiresMs) {
      this.ids.delete(id);
      return false;
    }
    return true;
  }

  /** Drop expired entries (they are also dropped lazily by `has`). */
  purge(): void {
    const cutoff = this.now() - this.expiresMs;
    for (const [id, at] of this.ids) {
      if (at > cutoff) break;
      this.ids.delete(id);
    }
  }

  /** Ids with their revoke time, oldest first. */
  entries(): [string, number][] {
    this.purge();
    return [...this.ids];
  }
}

/**
 * Load revoked ids from a state file; a missing file is an empty state. A
 * file that is not taskq state is a ConfigError (so a wrong path never gets
 * overwritten).
 */
export function loadStateFile(file: string, into: RevokedSet): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new ConfigError(`--statedb ${file}: cannot read it (${(error as Error).message})`, { cause: error });
  }
  let state: StateFile;
  try {
    state = JSON.parse(text) as StateFile;
  } catch (error) {
    throw new ConfigError(`--statedb ${file} is not a taskq worker state file (invalid JSON); point --statedb at a new path or remove the file`, { cause: error });
  }
  if (state?.version !== 1 || !Array.isArray(state.revoked)) {
    throw new ConfigError(`--statedb ${file} is not a taskq worker state file (expected {"version":1,"revoked":[...]}); point --statedb at a new path or remove the file`);
  }
  let n = 0;
  for (const entry of state.revoked) {
    if (Array.isArray(entry) && typeof entry[0] === 'string' && typeof entry[1] === 'number') {
      into.add(entry[0], entry[1]);
      n++;
    }
  }
  into.purge();
  return n;
}

/** Write the state file atomically (temp file + rename). */
export async function saveStateFile(file: string, set: RevokedSet): Promise<void> {
  const state: StateFile = { version: 1, revoked: set.entries() };
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state));
  await rename(tmp, file);
}

/** Something that can be told about a revoke: a running worker. */
export interface Revoker {
  revoke(taskId: string, options?: RevokeOptions): void;
}

const revokers = new WeakMap<App, Set<Revoker>>();

/** Register a worker to receive `revoke(app, …)`; returns the unregister function. */
export function registerRevoker(app: App, revoker: Revoker): () => void {
  let set = revokers.get(app);
  if (!set) {
    set = new Set();
    revokers.set(app, set);
  }
  set.add(revoker);
  return () => set.delete(revoker);
}

/**
 * Revoke a task (Celery's `app.control.revoke(id, terminate=…)`): every worker
 * of `app` in this process refuses it when it arrives (stores REVOKED, acks,
 * does not run it), and with `terminate` stops it if it runs. Returns how many
 * workers were told. Workers in other processes need the remote-control
 * mailbox (not in this package yet).
 */
export function revoke(app: App, taskId: string | string[], options: RevokeOptions = {}): number {
  const set = revokers.get(app);
  if (!set) return 0;
  for (const id of Array.isArray(taskId) ? taskId : [taskId]) {
    for (const r of set) r.revoke(id, options);
  }
  return set.size;
}
