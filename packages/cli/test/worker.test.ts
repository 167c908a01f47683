import { until } from '@taskq/core/testing';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startCli } from './run-cli.js';

describe('taskq worker', () => {
  it('starts with a .ts app, prints the banner with the registered tasks, and exits 0 on SIGTERM', async () => {
    const worker = startCli(['worker', '--app', './math-app.ts', '-Q', 'celery,math', '-c', '2', '-n', 'cli-test@%h']);
    await until(() => worker.output.stdout.includes('ready'), 15_000, 'the worker to be ready');
    expect(worker.output.stdout).toContain('math.add');
    expect(worker.output.stdout).toContain('cli-test@');
    worker.child.kill('SIGTERM');
    const run = await worker.exited;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('stopped');
  });

  it('passes its flags to the worker (concurrency, queues, time limits)', async () => {
    const worker = startCli(['worker', '--app', './math-app.ts', '-Q', 'alpha,beta', '-c', '3', '--soft-time-limit', '5', '--time-limit', '9']);
    await until(() => worker.output.stdout.includes('ready'), 15_000, 'the worker to be ready');
    worker.child.kill('SIGTERM');
    const run = await worker.exited;
    const banner = logLines(run.stdout).find((l) => l.banner)?.banner;
    expect(banner).toMatchObject({ concurrency: 3, queues: ['alpha', 'beta'], softTimeLimit: 5, timeLimit: 9 });
  });

  it('serves Prometheus metrics with --metrics-port and turns task events on with -E', async () => {
    const port = await freePort();
    const worker = startCli(['worker', '--app', './math-app.ts', '-E', '--metrics-port', String(port)]);
    await until(() => worker.output.stdout.includes('ready'), 15_000, 'the worker to be ready');
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^# TYPE taskq_/m);
    worker.child.kill('SIGTERM');
    const run = await worker.exited;
    expect(run.code).toBe(0);
    expect(logLines(run.stdout).find((l) => l.banner)?.banner).toMatchObject({ taskEvents: true });
    // No --metrics-host: loopback only, as the endpoint has no authentication.
    expect(logLines(run.stdout).find((l) => String(l.msg).startsWith('metrics on'))).toMatchObject({ host: '127.0.0.1', port });
  });

  it('binds the metrics server to the address given with --metrics-host', async () => {
    const port = await freePort();
    const worker = startCli(['worker', '--app', './math-app.ts', '--metrics-port', String(port), '--metrics-host', '0.0.0.0']);
    await until(() => worker.output.stdout.includes('ready'), 15_000, 'the worker to be ready');
    worker.child.kill('SIGTERM');
    const run = await worker.exited;
    expect(run.code).toBe(0);
    expect(logLines(run.stdout).find((l) => String(l.msg).startsWith('metrics on'))).toMatchObject({ host: '0.0.0.0', port });
  });

  it('runs the threads pool: each thread loads the .ts app before the worker is ready', async () => {
    const worker = startCli(['worker', '--app', './math-app.ts', '--pool', 'threads', '-c', '2', '--max-tasks-per-child', '100', '--time-limit', '60']);
    await until(() => worker.output.stdout.includes('ready'), 30_000, 'the worker to be ready');
    worker.child.kill('SIGTERM');
    const run = await worker.exited;
    expect(run.code).toBe(0);
    expect(logLines(run.stdout).find((l) => l.banner)?.banner).toMatchObject({ pool: 'threads', concurrency: 2, timeLimit: 60 });
  });

  it("accepts Celery's -P prefork as the process pool and says so", async () => {
    const worker = startCli(['worker', '--app', './math-app.ts', '-P', 'prefork', '-c', '1', '-O', 'fair']);
    await until(() => worker.output.stdout.includes('ready'), 30_000, 'the worker to be ready');
    worker.child.kill('SIGTERM');
    const run = await worker.exited;
    expect(run.code).toBe(0);
    const lines = logLines(run.stdout);
    expect(lines.find((l) => l.banner)?.banner).toMatchObject({ pool: 'process', concurrency: 1, prefetch: 1 });
    expect(lines.some((l) => l.msg === "pool prefork is Celery's name: taskq runs its process pool")).toBe(true);
  });

  it('logs JSON lines when stdout is not a terminal', async () => {
    const worker = startCli(['worker', '--app', './math-app.ts']);
    await until(() => worker.output.stdout.includes('ready'), 15_000, 'the worker to be ready');
    worker.child.kill('SIGTERM');
    const run = await worker.exited;
    for (const line of run.stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('waits for a running task on SIGTERM, and stops at once on a second one (cold shutdown), exiting 0', async () => {
    const worker = startCli(['worker', '--app', './busy-app.ts']);
    const signalLines = () => logLines(worker.output.stdout).filter((l) => l.signal === 'SIGTERM');
    await until(() => logLines(worker.output.stdout).some((l) => l.taskName === 'busy.until-aborted'), 15_000, 'the task to start');
    worker.child.kill('SIGTERM');
    await until(() => signalLines().length === 1, 15_000, 'the warm shutdown to begin');
    worker.child.kill('SIGTERM');
    const run = await worker.exited;
    expect(run.code).toBe(0);
    // The second signal reached a worker still waiting for its task: logged as a warning (cold shutdown).
    expect(signalLines().map((l) => l.level)).toEqual([30, 40]);
  });
});

/** The JSON log lines printed so far (a partly written last line is skipped). */
function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A TCP port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
