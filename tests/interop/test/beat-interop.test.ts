/**
 * `taskq beat` -> a real Python Celery worker over Redis: the beat's messages
 * are plain protocol v2 (with `expires`), so Celery runs them and stores
 * results Python reads back. The beat runs through the CLI as a user runs it;
 * its app module is written to a temp dir and exports a Celery-style
 * `beatSchedule` for `pyapp.add`, a task only Python implements.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PythonWorker, pythonReadResult, startPythonWorker, stopChild } from '../src/python.js';
import { redisTransport, uniqueQueue } from '../src/transports.js';

const CLI = fileURLToPath(new URL('../../../packages/cli/bin/taskq.js', import.meta.url));
const INTEROP_DIR = fileURLToPath(new URL('..', import.meta.url));
const CORE = pathToFileURL(createRequire(import.meta.url).resolve('@taskq/core')).href;

describe('taskq beat -> Python Celery worker over redis', () => {
  const queue = uniqueQueue('beat2py');
  let dir: string;
  let python: PythonWorker;
  let beat: ChildProcess | undefined;
  let out = '';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'taskq-beat-interop-'));
    await writeFile(
      path.join(dir, 'beat-app.mjs'),
      [
        `import { createApp } from ${JSON.stringify(CORE)};`,
        `export const app = createApp({ name: 'beat-interop' });`,
        `export const beatSchedule = {`,
        `  'add-every-second': { task: 'pyapp.add', schedule: 1, args: [2, 3], options: { queue: ${JSON.stringify(queue)}, expires: 30 } },`,
        `};`,
      ].join('\n'),
    );
    python = await startPythonWorker(redisTransport.py, [queue]);
  });
  afterAll(async () => {
    if (beat) await stopChild(beat);
    await python?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Task ids the beat logged as sent. */
  const sentIds = (): string[] =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; taskId?: string })
      .filter((l) => l.msg?.startsWith('Scheduler: Sending due task') && l.taskId)
      .map((l) => l.taskId!);

  it('runs beat-sent tasks on the Python worker, results readable from Python', async () => {
    beat = spawn(process.execPath, [CLI, 'beat', '--app', path.join(dir, 'beat-app.mjs'), '-s', `file:${path.join(dir, 'schedule.json')}`], {
      cwd: INTEROP_DIR,
      env: { ...process.env, TASKQ_BROKER_URL: redisTransport.brokerUrl, TASKQ_RESULT_BACKEND: redisTransport.backendUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    beat.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    beat.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    for (const deadline = Date.now() + 30_000; sentIds().length < 2; ) {
      if (Date.now() > deadline) throw new Error(`beat sent fewer than 2 tasks in 30 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await stopChild(beat);

    const ids = sentIds().slice(0, 2);
    const outcomes = await Promise.all(ids.map((id) => pythonReadResult(redisTransport.py, id)));
    expect(outcomes).toEqual(ids.map((id) => expect.objectContaining({ task_id: id, status: 'SUCCESS', result: 5 })));
  });
});
