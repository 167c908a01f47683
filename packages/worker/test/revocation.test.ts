/** Revocation: revoked ids are refused on receipt, running tasks can be terminated, and the ids survive restarts with a state file. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RevokedSet, revoke } from '../src/index.js';
import { createHarness, gate, until } from './helpers/harness.js';

function tempFile(name: string): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'taskq-state-')), name);
}

describe('RevokedSet', () => {
  it('forgets the oldest ids past its bound', () => {
    const set = new RevokedSet(2);
    set.add('a');
    set.add('b');
    set.add('c');
    expect([set.has('a'), set.has('b'), set.has('c')]).toEqual([false, true, true]);
  });

  it('forgets ids once they expire', () => {
    let now = 0;
    const set = new RevokedSet(10, 1000, () => now);
    set.add('a');
    now = 999;
    expect(set.has('a')).toBe(true);
    now = 1000;
    expect(set.has('a')).toBe(false);
  });
});

describe('Revoking tasks', () => {
  it('refuses a revoked task when it arrives: REVOKED stored, message acked, task not run', async () => {
    const h = createHarness();
    let ran = false;
    h.app.task('never', () => {
      ran = true;
    });
    const worker = await h.startWorker();
    const id = randomUUID();
    worker.revoke(id);
    await h.app.sendTask('never', [], {}, { taskId: id });
    const meta = await h.result(id);
    expect(meta.status).toBe('REVOKED');
    expect(meta.result).toMatchObject({ exc_type: 'TaskRevokedError', exc_message: ['revoked'] });
    expect(ran).toBe(false);
    expect(h.logs.some((l) => l.msg === `Discarding revoked task: never[${id}]`)).toBe(true);
  });

  it('reaches every worker of the app in this process through revoke(app, id)', async () => {
    const h = createHarness();
    h.app.task('never', () => {});
    await h.startWorker();
    const id = randomUUID();
    expect(revoke(h.app, id)).toBe(1);
    await h.app.sendTask('never', [], {}, { taskId: id });
    expect((await h.result(id)).status).toBe('REVOKED');
  });

  it('discards an eta task revoked while it is held', async () => {
    const h = createHarness();
    h.app.task('later', () => {});
    const worker = await h.startWorker();
    const r = await h.app.sendTask('later', [], {}, { countdown: 60 });
    await until(() => worker.stats().scheduled === 1, 10_000, 'the eta task held');
    worker.revoke(r.id, { terminate: true });
    expect((await h.result(r.id)).status).toBe('REVOKED');
    expect(worker.stats().scheduled).toBe(0);
  });

  it('terminates a running task in the async pool by aborting its signal, and marks it REVOKED terminated', async () => {
    const h = createHarness();
    const started = gate();
    h.app.task(
      'patient',
      (ctx) =>
        new Promise((_, reject) => {
          started.open();
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
        }),
      { bind: true },
    );
    const worker = await h.startWorker();
    const r = await h.app.sendTask('patient');
    await started.promise;
    worker.revoke(r.id, { terminate: true });
    const meta = await h.result(r.id);
    expect(meta.status).toBe('REVOKED');
    expect(meta.result).toMatchObject({ exc_message: ['terminated'] });
    await until(() => worker.stats().active === 0, 10_000, 'the terminated task to end');
    // What the task stored after its abort (a FAILURE) was dropped.
    expect((await (await h.app.getBackend()).get(r.id))?.status).toBe('REVOKED');
  });

  it('keeps revoked ids in the statedb file across restarts', async () => {
    const file = tempFile('worker.state');
    const h = createHarness();
    h.app.task('never', () => {});
    const first = await h.startWorker({ statedb: file });
    const id = randomUUID();
    first.revoke(id);
    await first.stop();
    expect(JSON.parse(readFileSync(file, 'utf8')).revoked.map((e: [string, number]) => e[0])).toEqual([id]);

    const h2 = createHarness();
    h2.app.task('never', () => {});
    const second = await h2.startWorker({ statedb: file });
    expect(second.revoked.has(id)).toBe(true);
    await h2.app.sendTask('never', [], {}, { taskId: id });
    expect((await h2.result(id)).status).toBe('REVOKED');
  });

  it('refuses a statedb file that is not worker state, and leaves it untouched', async () => {
    const file = tempFile('notes.txt');
    writeFileSync(file, 'my notes');
    const h = createHarness();
    await expect(h.startWorker({ statedb: file })).rejects.toThrow(/not a taskq worker state file/);
    expect(readFileSync(file, 'utf8')).toBe('my notes');
  });
});
