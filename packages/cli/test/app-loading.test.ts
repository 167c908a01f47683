import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from './run-cli.js';

const EAGER = { TASKQ_TASK_ALWAYS_EAGER: '1' };

describe('--app loads the user’s app module', () => {
  it('loads a .ts module without a build step (through tsx)', async () => {
    const run = await runCli(['call', 'math.add', '--args', '[2, 3]', '--wait', '5', '--app', './math-app.ts'], { env: EAGER });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [id, result] = run.stdout.trim().split('\n');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result).toBe('5');
  });

  it('loads a plain .js module whose app is the default export', async () => {
    const run = await runCli(['call', 'text.upper', '--args', '["hi"]', '--wait', '5', '--app', './default-app.js'], { env: EAGER });
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')[1]).toBe('"HI"');
  });

  it('takes the module from "taskq.app" in package.json when --app is left out', async () => {
    const run = await runCli(['call', 'pkg.hello', '--args', '["Ada"]', '--wait', '5'], { cwd: `${FIXTURES}pkg-app`, env: EAGER });
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')[1]).toBe('"hello Ada"');
  });

  it('fails with exit 2 and names the file when the path does not exist', async () => {
    const run = await runCli(['worker', '--app', './no-such-app.ts']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('TASKQ_ERR_CONFIG');
    expect(run.stderr).toContain('"./no-such-app.ts": no such file');
  });

  it('fails with exit 2 and says what it found when the module exports no app', async () => {
    const run = await runCli(['worker', '--app', './not-an-app/index.ts']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('does not export a taskq app');
    expect(run.stderr).toContain('its export "app" is an object (Object)');
  });

  it('fails with exit 2 when a package specifier cannot be resolved', async () => {
    const run = await runCli(['worker', '--app', 'no-such-package-taskq']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot find the package');
  });

  it('asks for --app when the worker has no app to load', async () => {
    const run = await runCli(['worker']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no app: pass --app <module>');
  });
});
