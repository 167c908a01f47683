import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const EAGER = { TASKQ_TASK_ALWAYS_EAGER: '1' };
const SUCCEEDED = '11111111-1111-4111-8111-111111111111';
const FAILED = '22222222-2222-4222-8222-222222222222';

describe('taskq call', () => {
  it('prints only the task id without --wait', async () => {
    const run = await runCli(['call', 'math.add', '--args', '[1, 1]', '--app', './math-app.ts'], { env: EAGER });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
  });

  it('passes --kwargs as keyword arguments', async () => {
    const run = await runCli(['call', 'text.greet', '--args', '["Ada"]', '--kwargs', '{"greeting": "hi"}', '--wait', '5', '--app', './math-app.ts'], {
      env: EAGER,
    });
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')[1]).toBe('"hi Ada"');
  });

  it('exits 1 and prints the error type and message when the awaited task fails', async () => {
    const run = await runCli(['call', 'math.fail', '--wait', '5', '--app', './math-app.ts'], { env: EAGER });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('FAILURE: RangeError: the numbers do not add up');
  });

  it('works without an app module: an app from the environment sends by name', async () => {
    const run = await runCli(['call', 'nobody.implements.this', '--wait', '5'], { env: EAGER });
    // Eager mode in an app with no tasks: the send works, the task fails as not registered.
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(run.stderr).toContain('NotRegistered');
  });

  it('exits 1 with a timeout error when the result is not ready in time', async () => {
    const run = await runCli(['call', 'math.add', '--args', '[1, 2]', '--wait', '0.2', '--app', './math-app.ts']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('TASKQ_ERR_TIMEOUT');
  });
});

describe('taskq result', () => {
  it('prints the state and the result as JSON', async () => {
    const run = await runCli(['result', SUCCEEDED, '--app', './seeded-results-app.ts']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${SUCCEEDED}: SUCCESS\n{"total":42}\n`);
  });

  it('prints the error and the remote traceback of a failed task, and exits 1', async () => {
    const run = await runCli(['result', FAILED, '--app', './seeded-results-app.ts']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${FAILED}: FAILURE`);
    expect(run.stdout).toContain('ValueError: bad row 7');
    expect(run.stdout).toContain('Traceback (most recent call last)');
  });

  it('prints the stored meta with --json', async () => {
    const run = await runCli(['result', SUCCEEDED, '--json', '--app', './seeded-results-app.ts']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'SUCCESS', result: { total: 42 }, task_id: SUCCEEDED });
  });

  it('reports PENDING for an id with no stored result', async () => {
    const run = await runCli(['result', '33333333-3333-4333-8333-333333333333']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('PENDING');
  });
});
