import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/signal-worker.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface Run {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  exit: Promise<number | null>;
}

function startWorkerProcess(env: Record<string, string> = {}): Run {
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm --filter @taskq/worker build\` before this test`);
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Array<Record<string, unknown>> = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exit };
}

async function waitForLine(run: Run, check: (l: Record<string, unknown>) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!run.lines.some(check)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(run.lines.map((l) => l.msg ?? l.marker))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Worker process and signals', () => {
  it('on SIGTERM finishes the running task and exits with code 0', async () => {
    const run = startWorkerProcess();
    await waitForLine(run, (l) => l.marker === 'task-started', 'the task to start');
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.lines.some((l) => /Warm shutdown/.test(String(l.msg)))).toBe(true);
    expect(run.lines.find((l) => l.marker === 'final-state')).toMatchObject({ status: 'SUCCESS' });
  });

  it('on a second signal shuts down cold, aborting the running task, and still exits with code 0', async () => {
    const run = startWorkerProcess({ SHUTDOWN_TIMEOUT: '3600' });
    await waitForLine(run, (l) => l.marker === 'task-started', 'the task to start');
    run.child.kill('SIGINT');
    await waitForLine(run, (l) => /Waiting up to/.test(String(l.msg)), 'the warm shutdown to wait');
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(0);
    expect(run.lines.some((l) => /cold shutdown/.test(String(l.msg)))).toBe(true);
  });
});
