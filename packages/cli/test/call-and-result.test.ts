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

describe('taskq call flags in the sent message', () => {
  interface Published {
    route: { queue: string };
    headers: { task: string; eta: string | null; expires: string | null };
    properties: { priority?: number };
    body: [unknown[], Record<string, unknown>, unknown];
  }
  async function published(args: string[]): Promise<Published> {
    const run = await runCli(['call', ...args, '--app', './recording-app.ts']);
    expect(run.code).toBe(0);
    return JSON.parse(run.stderr) as Published;
  }

  it('puts --args and --kwargs in the body', async () => {
    const message = await published(['email.send', '--args', '["ada@example.com"]', '--kwargs', '{"subject": "Hi"}']);
    expect(message.headers.task).toBe('email.send');
    expect(message.body.slice(0, 2)).toEqual([['ada@example.com'], { subject: 'Hi' }]);
  });

  it('routes to --queue, else to the default queue', async () => {
    expect((await published(['t', '--queue', 'emails'])).route.queue).toBe('emails');
    expect((await published(['t'])).route.queue).toBe('celery');
  });

  it('turns --countdown into an eta and --expires into an expiry time', async () => {
    const before = Date.now();
    const { headers } = await published(['t', '--countdown', '60', '--expires', '120']);
    expect(Date.parse(headers.eta!)).toBeGreaterThanOrEqual(before + 60_000);
    expect(Date.parse(headers.expires!)).toBeGreaterThan(Date.parse(headers.eta!));
  });

  it('passes --eta and --priority through', async () => {
    const message = await published(['t', '--eta', '2030-01-02T03:04:05Z', '--priority', '7']);
    expect(Date.parse(message.headers.eta!)).toBe(Date.parse('2030-01-02T03:04:05Z'));
    expect(message.properties.priority).toBe(7);
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

  it('exits 1 with a timeout error when --wait runs out', async () => {
    const run = await runCli(['result', '44444444-4444-4444-8444-444444444444', '--wait', '0.1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('TASKQ_ERR_TIMEOUT');
  });

  it('reports PENDING for an id with no stored result', async () => {
    const run = await runCli(['result', '33333333-3333-4333-8333-333333333333']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('PENDING');
  });
});
