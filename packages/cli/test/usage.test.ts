import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('taskq --help and --version', () => {
  it('lists the commands on stdout and exits 0', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['worker', 'beat', 'call', 'result']) expect(run.stdout).toContain(`  ${command} `);
  });

  it('shows a command’s flags with `taskq <command> --help`', async () => {
    const run = await runCli(['worker', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: taskq worker');
    expect(run.stdout).toContain('--concurrency');
    expect(run.stdout).toContain('--soft-time-limit');
  });

  it('lists the pool and resource flags of `taskq worker` with Celery-like wording', async () => {
    const run = await runCli(['worker', '--help']);
    for (const flag of ['-P, --pool', '--max-tasks-per-child', '--max-memory-per-child', '--autoscale', '-O, --optimization', '--statedb', '--time-limit', '--soft-time-limit', '--metrics-host']) {
      expect(run.stdout).toContain(flag);
    }
  });

  it('prints the package version', async () => {
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('prints the usage on stderr and exits 2 without a command', async () => {
    const run = await runCli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: taskq <command>');
  });
});

describe('bad command lines exit 2 with a usage message', () => {
  it('rejects an unknown command', async () => {
    const run = await runCli(['wrker']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown command "wrker"');
    expect(run.stderr).toContain('Usage: taskq');
  });

  it('rejects an unknown flag, naming it', async () => {
    const run = await runCli(['worker', '--app', './math-app.ts', '--concurrancy', '2']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("'--concurrancy'");
    expect(run.stderr).toContain('Usage: taskq worker');
  });

  it('rejects a concurrency that is not a number', async () => {
    const run = await runCli(['worker', '--app', './math-app.ts', '-c', 'abc']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--concurrency must be an integer >= 1, got "abc"');
  });

  it('rejects an unknown pool, listing the pools', async () => {
    const run = await runCli(['worker', '--app', './math-app.ts', '--pool', 'fibers']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--pool must be one of async, threads, process, solo, prefork, eventlet, gevent; got "fibers"');
  });

  it('rejects an --autoscale that is not max,min', async () => {
    const run = await runCli(['worker', '--app', './math-app.ts', '--autoscale', '3,10']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--autoscale must be max,min');
  });

  it('rejects a --metrics-host that is not an IP address', async () => {
    const run = await runCli(['worker', '--app', './math-app.ts', '--metrics-port', '0', '--metrics-host', 'everywhere']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--metrics-host must be an IP address (e.g. 127.0.0.1 or 0.0.0.0), got "everywhere"');
  });

  it('rejects an unknown log level', async () => {
    const run = await runCli(['worker', '--app', './math-app.ts', '-l', 'verbose']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--loglevel must be one of');
  });

  it('rejects --args that is not valid JSON, and sends nothing', async () => {
    const run = await runCli(['call', 'math.add', '--args', '[1,'], { env: { TASKQ_TASK_ALWAYS_EAGER: '1' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--args is not valid JSON');
    expect(run.stdout).toBe('');
  });

  it('rejects --args that is JSON but not an array', async () => {
    const run = await runCli(['call', 'math.add', '--args', '{"a": 1}']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--args must be a JSON array');
  });

  it('rejects a priority outside 0–9', async () => {
    const run = await runCli(['call', 'math.add', '--priority', '12']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--priority must be an integer from 0 to 9');
  });

  it('rejects --countdown together with --eta (core’s option check, exit 2)', async () => {
    const run = await runCli(['call', 'math.add', '--countdown', '5', '--eta', '2030-01-01T00:00:00Z']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('TASKQ_ERR_TASK_OPTIONS');
    expect(run.stdout).toBe('');
  });

  it('asks for the task name when `call` has none', async () => {
    const run = await runCli(['call', '--args', '[]']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('which task?');
  });
});
