import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { until } from '@taskq/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './run-cli.js';

function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const sends = (stdout: string) => logLines(stdout).filter((l) => String(l.msg).startsWith('Scheduler: Sending due task'));

describe('taskq beat', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'taskq-cli-beat-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sends the periodic tasks of both declaration styles, records them in the file store, and exits 0 on SIGTERM', async () => {
    const file = path.join(dir, 'schedule.json');
    const beat = startCli(['beat', '--app', './beat-app.ts', '--schedule-store', `file:${file}`]);
    await until(() => sends(beat.output.stdout).length >= 2, 15_000, 'two heartbeats');
    beat.child.kill('SIGTERM');
    const run = await beat.exited;
    expect(run.code).toBe(0);
    const start = logLines(run.stdout).find((l) => l.msg === 'beat: starting with 2 periodic tasks');
    expect(start?.entries).toEqual(['cleanup-nightly: cleanup.purge crontab(0 0 * * *)', 'heartbeat: monitor.heartbeat every 1s']);
    expect(sends(run.stdout)[0]).toMatchObject({ entry: 'heartbeat', task: 'monitor.heartbeat' });
    const saved = JSON.parse(await readFile(file, 'utf8')) as { entries: Record<string, unknown> };
    expect(Object.keys(saved.entries).sort()).toEqual(['cleanup-nightly', 'heartbeat']);
  });

  it('exits 2 naming the entry when a schedule is bad', async () => {
    const run = await runCli(['beat', '--app', './bad-beat-app.ts', '-s', `file:${path.join(dir, 'bad.json')}`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('beat schedule entry "cleanup-nightly": crontab minute 61');
  });

  it('exits 2 when --schedule-store redis is asked of an app whose broker is not Redis', async () => {
    const run = await runCli(['beat', '--app', './beat-app.ts', '--schedule-store', 'redis']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--schedule-store redis keeps the schedule in the app's broker, but the broker is memory://");
  });

  it('exits 2 for an unknown time zone', async () => {
    const run = await runCli(['beat', '--app', './beat-app.ts', '--timezone', 'Mars/Olympus', '-s', `file:${path.join(dir, 'tz.json')}`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('timezone "Mars/Olympus" is not a time zone');
  });

  it.each([
    [['--schedule-store', 'postgres'], '--schedule-store must be file, file:PATH, redis or redis:PREFIX'],
    [['--max-interval', 'soon'], '--max-interval must be a non-negative number of seconds'],
    [['--max-interval', '0'], '--max-interval must be more than 0 seconds'],
    [['--lock-ttl', '2'], '--lock-ttl needs --schedule-store redis'],
    [['--beat'], 'Unknown option'],
  ])('exits 2 with the usage for %j', async (args, message) => {
    const run = await runCli(['beat', '--app', './beat-app.ts', ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: taskq beat');
    expect(run.stderr).toContain(message);
  });

  it('documents its flags in --help', async () => {
    const run = await runCli(['beat', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--schedule-store', '--timezone', '--max-interval', '--lock-ttl']) expect(run.stdout).toContain(flag);
  });
});

describe('taskq worker --beat', () => {
  it('runs the beat inside the worker, warns that it is not for production, and the worker runs the sent tasks', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'taskq-cli-worker-beat-'));
    try {
      // The embedded beat keeps its file in the current directory.
      const worker = startCli(['worker', '--app', path.resolve('test/fixtures/beat-app.ts'), '--beat'], { cwd: dir });
      await until(() => logLines(worker.output.stdout).some((l) => l.taskName === 'monitor.heartbeat' && /succeeded/i.test(String(l.msg))), 15_000, 'a heartbeat to run');
      worker.child.kill('SIGTERM');
      const run = await worker.exited;
      expect(run.code).toBe(0);
      const warning = logLines(run.stdout).find((l) => l.level === 40 && String(l.msg).startsWith('--beat runs the periodic task scheduler inside this worker'));
      expect(warning?.msg).toContain('not for production');
      expect(JSON.parse(await readFile(path.join(dir, 'taskq-beat-schedule.json'), 'utf8'))).toHaveProperty('entries.heartbeat');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("runs the app module's beatSchedule export, keeping its state where --schedule-store says", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'taskq-cli-worker-beat-'));
    try {
      const file = path.join(dir, 'elsewhere.json');
      const worker = startCli(['worker', '--app', './beat-export-app.ts', '--beat', '-s', `file:${file}`]);
      await until(() => logLines(worker.output.stdout).some((l) => l.taskName === 'monitor.tick' && /succeeded/i.test(String(l.msg))), 15_000, 'a tick to run');
      worker.child.kill('SIGTERM');
      const run = await worker.exited;
      expect(run.code).toBe(0);
      expect(sends(run.stdout)[0]).toMatchObject({ entry: 'tick', task: 'monitor.tick' });
      expect(JSON.parse(await readFile(file, 'utf8'))).toHaveProperty('entries.tick');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 before it takes any task when --beat -s redis is asked of an app whose broker is not Redis', async () => {
    const run = await runCli(['worker', '--app', './beat-app.ts', '--beat', '-s', 'redis']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--schedule-store redis keeps the schedule in the app's broker, but the broker is memory://");
    expect(logLines(run.stdout).some((l) => /ready/i.test(String(l.msg)))).toBe(false);
  });

  it.each([
    [['--schedule-store', 'file:x.json'], '--schedule-store is for the beat that --beat runs inside the worker'],
    [['--beat', '--schedule-store', 'postgres'], '--schedule-store must be file, file:PATH, redis or redis:PREFIX'],
  ])('exits 2 with the worker usage for %j', async (args, message) => {
    const run = await runCli(['worker', '--app', './beat-app.ts', ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: taskq worker');
    expect(run.stderr).toContain(message);
  });
});
