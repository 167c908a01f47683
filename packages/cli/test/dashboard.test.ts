/** `taskq dashboard`: serves @taskq/dashboard for the app's broker, and says what to install when it is missing. */
import { request } from 'node:http';
import { isTaskqError } from '@taskq/core';
import { until } from '@taskq/core/testing';
import { describe, expect, it } from 'vitest';
import { loadDashboard } from '../src/commands/dashboard.js';
import { runCli, startCli } from './run-cli.js';

describe('taskq dashboard', () => {
  it('documents its flags', async () => {
    const run = await runCli(['dashboard', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--port', '--address', '--basic-auth', '--read-only', '--queues', '--allowed-hosts']) expect(run.stdout).toContain(flag);
  });

  it('serves the dashboard on 127.0.0.1, shows the app’s worker, and stops on SIGTERM', async () => {
    const cli = startCli(['dashboard', '--app', './monitored-app.ts', '--port', '0', '--read-only', '--poll-interval', '0.2']);
    await until(() => /taskq dashboard on http:\/\/127\.0\.0\.1:\d+/.test(cli.output.stderr), 15_000, 'the dashboard to listen');
    const url = /on (http:\/\/\S+?) /.exec(cli.output.stderr)![1]!;
    expect(cli.output.stderr).toContain('(read-only)');
    let hostnames: string[] = [];
    const deadline = Date.now() + 10_000;
    while (!hostnames.includes('cli-w1@test') && Date.now() < deadline) {
      const snap = (await (await fetch(`${url}/api/snapshot`)).json()) as { workers: Array<{ hostname: string }> };
      hostnames = snap.workers.map((w) => w.hostname);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(hostnames).toEqual(['cli-w1@test']);
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });

  it('accepts a Host named with --allowed-hosts and refuses others (DNS rebinding guard)', async () => {
    const cli = startCli(['dashboard', '--app', './monitored-app.ts', '--port', '0', '--read-only', '--allowed-hosts', 'dash.example.test']);
    await until(() => /taskq dashboard on http:\/\/127\.0\.0\.1:\d+/.test(cli.output.stderr), 15_000, 'the dashboard to listen');
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(cli.output.stderr)![1]);
    expect(await statusWithHost(port, 'dash.example.test')).toBe(200);
    expect(await statusWithHost(port, 'evil.example.test')).toBe(403);
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });

  it('rejects --basic-auth without a password', async () => {
    const run = await runCli(['dashboard', '--basic-auth', 'admin']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--basic-auth must be user:password');
  });

  it('says to install @taskq/dashboard when it is not installed', async () => {
    const missing = Object.assign(new Error("Cannot find package '@taskq/dashboard' imported from /x/cli/dist/index.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    const error = await loadDashboard(() => Promise.reject(missing)).catch((e: unknown) => e);
    expect(isTaskqError(error) && error.code).toBe('TASKQ_ERR_CONFIG');
    expect((error as Error).message).toContain('install @taskq/dashboard');
  });
});

/** GET /api/snapshot with a given Host header (fetch does not let a caller set Host). */
function statusWithHost(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/snapshot', headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
