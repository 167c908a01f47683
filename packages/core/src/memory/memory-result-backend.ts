/**
 * The embedded `memory://` result backend: results in this process, shared
 * by every app naming the same URL, with expiry and push-based waiting.
 */
import { EventEmitter } from 'node:events';
import type { ChordPart, ChordPartOutcome, GroupMeta } from '../canvas-backend.js';
import { TimeoutError } from '../errors.js';
import { READY_STATES, type ResultBackend, type ResultMeta, type WaitOptions } from '../result-backend.js';

interface Entry {
  meta: ResultMeta;
  expiresAt: number;
}

interface ChordState {
  size: number | undefined;
  parts: Map<string, ChordPart>;
}

class MemoryResultStore {
  readonly entries = new Map<string, Entry>();
  readonly groups = new Map<string, { meta: GroupMeta; expiresAt: number }>();
  readonly chords = new Map<string, ChordState>();
  readonly events = new EventEmitter();
  constructor() {
    this.events.setMaxListeners(0);
  }
}

const stores = new Map<string, MemoryResultStore>();

function storeFor(url: string): MemoryResultStore {
  const key = url.replace(/^memory:\/\//i, '').replace(/\/+$/, '');
  let s = stores.get(key);
  if (!s) {
    s = new MemoryResultStore();
    stores.set(key, s);
  }
  return s;
}

export interface MemoryResultBackendOptions {
  /** Seconds a result lives (default 1 day). */
  resultExpires?: number;
}

export class MemoryResultBackend implements ResultBackend {
  readonly backend = 'memory';
  private readonly store_: MemoryResultStore;
  private readonly ttlMs: number;

  constructor(
    readonly url: string,
    options: MemoryResultBackendOptions = {},
  ) {
    this.store_ = storeFor(url);
    this.ttlMs = (options.resultExpires ?? 86_400) * 1000;
  }

  async connect(): Promise<void> {}
  async close(): Promise<void> {}

  async store(taskId: string, meta: ResultMeta): Promise<void> {
    const current = this.read(taskId);
    if (current?.status === 'SUCCESS') return;
    this.store_.entries.set(taskId, { meta: structuredClone(meta), expiresAt: Date.now() + this.ttlMs });
    this.store_.events.emit(taskId, meta);
  }

  async get(taskId: string): Promise<ResultMeta | undefined> {
    const m = this.read(taskId);
    return m && structuredClone(m);
  }

  private read(taskId: string): ResultMeta | undefined {
    const e = this.store_.entries.get(taskId);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      this.store_.entries.delete(taskId);
      return undefined;
    }
    return e.meta;
  }

  wait(taskId: string, options: WaitOptions): Promise<ResultMeta> {
    const now = this.read(taskId);
    if (now && READY_STATES.has(now.status)) return Promise.resolve(structuredClone(now));
    // An abort before we listen would never fire again.
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    return new Promise<ResultMeta>((resolve, reject) => {
      const events = this.store_.events;
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        events.off(taskId, onMeta);
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const onMeta = (meta: ResultMeta): void => {
        if (!READY_STATES.has(meta.status)) return;
        done();
        resolve(structuredClone(meta));
      };
      const onAbort = (): void => {
        done();
        reject(options.signal?.reason);
      };
      events.on(taskId, onMeta);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(options.timeoutMs)) {
        timer = setTimeout(() => {
          done();
          reject(new TimeoutError(`result of ${taskId} not ready after ${options.timeoutMs} ms`));
        }, options.timeoutMs);
      }
    });
  }

  async forget(taskId: string): Promise<void> {
    this.store_.entries.delete(taskId);
  }

  async saveGroup(groupId: string, meta: GroupMeta): Promise<void> {
    this.store_.groups.set(groupId, { meta: structuredClone(meta), expiresAt: Date.now() + this.ttlMs });
  }

  async restoreGroup(groupId: string): Promise<GroupMeta | undefined> {
    const g = this.store_.groups.get(groupId);
    if (!g || g.expiresAt <= Date.now()) return undefined;
    return structuredClone(g.meta);
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.store_.groups.delete(groupId);
  }

  async setChordSize(groupId: string, size: number): Promise<void> {
    const chord = this.chord(groupId);
    chord.size = size;
  }

  /** Count a finished header member; complete once as many distinct members as the chord's size reported (as the Redis backend's zset). */
  async onChordPartReturn(part: ChordPart): Promise<ChordPartOutcome> {
    const chord = this.chord(part.groupId);
    chord.parts.set(part.taskId, structuredClone(part));
    if (chord.size === undefined || chord.parts.size !== chord.size) return { complete: false };
    this.store_.chords.delete(part.groupId);
    const rank = (p: ChordPart): number => p.groupIndex ?? Number.MAX_SAFE_INTEGER;
    const parts = [...chord.parts.values()].sort((a, b) => rank(a) - rank(b));
    return { complete: true, parts: parts.map(({ taskId, state, result }) => ({ taskId, state, result })) };
  }

  private chord(groupId: string): ChordState {
    let chord = this.store_.chords.get(groupId);
    if (!chord) {
      chord = { size: undefined, parts: new Map() };
      this.store_.chords.set(groupId, chord);
    }
    return chord;
  }
}

export function createMemoryResultBackend(url = 'memory://', options?: MemoryResultBackendOptions): MemoryResultBackend {
  return new MemoryResultBackend(url, options);
}
