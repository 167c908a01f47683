import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@taskq/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileScheduleStore } from '../src/index.js';

describe('FileScheduleStore', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'taskq-beat-file-'));
    file = path.join(dir, 'taskq-beat-schedule.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('persists last runs across instances', async () => {
    const a = new FileScheduleStore(file);
    await a.open();
    await a.initialize('hb', 1000);
    expect(await a.claim('hb', 5000)).toBe(true);
    await a.close();

    const b = new FileScheduleStore(file);
    await b.open();
    expect(await b.lastRuns(['hb', 'other'])).toEqual(new Map([['hb', 5000]]));
  });

  it('claims a tick once, and never one older than the last run', async () => {
    const store = new FileScheduleStore(file);
    await store.open();
    expect(await store.claim('hb', 5000)).toBe(true);
    expect(await store.claim('hb', 5000)).toBe(false);
    expect(await store.claim('hb', 4000)).toBe(false);
  });

  it('keeps an existing record on initialize', async () => {
    const store = new FileScheduleStore(file);
    await store.open();
    await store.claim('hb', 5000);
    expect(await store.initialize('hb', 9000)).toBe(5000);
  });

  it('writes readable JSON through a temporary file, leaving no temporary file behind', async () => {
    const store = new FileScheduleStore(file);
    await store.open();
    await store.claim('cleanup-nightly', Date.UTC(2025, 0, 1));
    await store.close();
    expect(await readdir(dir)).toEqual(['taskq-beat-schedule.json']);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      version: 1,
      entries: { 'cleanup-nightly': { ms: Date.UTC(2025, 0, 1), at: '2025-01-01T00:00:00.000Z' } },
    });
  });

  it('starts empty from an unreadable file, as Celery does, and warns', async () => {
    await writeFile(file, '{ not json');
    const lines: string[] = [];
    const logger = createLogger('warn');
    logger.warn = ((_obj: unknown, msg?: string) => lines.push(String(msg))) as typeof logger.warn;
    const store = new FileScheduleStore(file, { logger });
    await store.open();
    expect(await store.lastRuns(['hb'])).toEqual(new Map());
    expect(lines).toEqual(['beat schedule file is unreadable; starting with an empty schedule']);
  });
});
