/**
 * The default schedule store: a JSON file (Celery's `celerybeat-schedule`),
 * rewritten atomically — a temporary file, then a rename — after each
 * change, so a crash leaves the old state or the new one, never half a file.
 * One beat process per file: for several beats, use the Redis store.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@taskq/core';
import { MemoryScheduleStore } from './store.js';

/** The default file name, in the current directory. */
export const DEFAULT_SCHEDULE_FILE = 'taskq-beat-schedule.json';

interface FileShape {
  version: 1;
  /** Entry name -> last run. `at` is for people reading the file; `ms` is what counts. */
  entries: Record<string, { ms: number; at: string }>;
}

export interface FileScheduleStoreOptions {
  /** Warnings (an unreadable file is replaced, as Celery does). */
  logger?: Logger;
}

/** A {@link ScheduleStore} persisted to a JSON file. */
export class FileScheduleStore extends MemoryScheduleStore {
  readonly path: string;
  private readonly log: Logger | undefined;
  /** Writes run one after another, in order. */
  private writing: Promise<void> = Promise.resolve();

  constructor(file: string = DEFAULT_SCHEDULE_FILE, options: FileScheduleStoreOptions = {}) {
    super();
    this.path = path.resolve(file);
    this.log = options.logger;
  }

  override async open(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      const data = JSON.parse(text) as FileShape;
      for (const [name, rec] of Object.entries(data.entries ?? {})) {
        if (typeof rec?.ms === 'number' && Number.isFinite(rec.ms)) this.records.set(name, rec.ms);
      }
    } catch (error) {
      // As Celery with a corrupt shelve: start from a clean schedule rather than refuse to run.
      this.log?.warn({ err: error, path: this.path }, 'beat schedule file is unreadable; starting with an empty schedule');
    }
  }

  override async initialize(name: string, at: number): Promise<number> {
    const had = this.records.has(name);
    const value = await super.initialize(name, at);
    if (!had) await this.save();
    return value;
  }

  override async claim(name: string, slot: number): Promise<boolean> {
    const claimed = await super.claim(name, slot);
    if (claimed) await this.save();
    return claimed;
  }

  override async close(): Promise<void> {
    await this.writing;
  }

  override describe(): string {
    return `file:${this.path}`;
  }

  private save(): Promise<void> {
    const data: FileShape = { version: 1, entries: {} };
    for (const [name, ms] of this.records) data.entries[name] = { ms, at: new Date(ms).toISOString() };
    const text = `${JSON.stringify(data, null, 2)}\n`;
    this.writing = this.writing.then(async () => {
      await mkdir(path.dirname(this.path), { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, this.path);
    });
    return this.writing;
  }
}
