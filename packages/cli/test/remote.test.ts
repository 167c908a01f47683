/** `taskq inspect`, `control`, `events` and `purge`, against a worker in the app module's own process (memory://). */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatReply, prettyReply } from '../src/remote-output.js';
import { BIN, cliEnv, FIXTURES, runCli } from './run-cli.js';

const APP = ['--app', './monitored-app.ts'];

describe('taskq inspect', () => {
  it('prints a ping reply as Celery does, then the node count', async () => {
    const run = await runCli(['inspect', 'ping', ...APP]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('->  cli-w1@test: OK\n        pong\n\n1 node online.\n');
  });

  it('prints one JSON object keyed by node name with --json', async () => {
    const run = await runCli(['inspect', 'registered', '--json', ...APP]);
    expect(JSON.parse(run.stdout)).toEqual({ 'cli-w1@test': ['math.add', 'math.mul'] });
  });

  it('lists registered tasks as Celery’s bullet list', async () => {
    const run = await runCli(['inspect', 'registered', ...APP]);
    expect(run.stdout).toBe('->  cli-w1@test: OK\n    * math.add\n    * math.mul\n\n1 node online.\n');
  });

  it('prints stats as sorted, indented JSON', async () => {
    const run = await runCli(['inspect', 'stats', ...APP]);
    expect(run.stdout).toContain('    {\n        "broker": {');
    expect(run.stdout).toContain('"max-concurrency": 10');
  });

  it('exits 69 when no worker replies within the timeout', async () => {
    const run = await runCli(['inspect', 'ping', '--timeout', '0.2', '--app', './math-app.ts']);
    expect(run.code).toBe(69);
    expect(run.stderr).toBe('Error: No nodes replied within time constraint\n');
  });

  it('exits 69 when the destination is not a worker that answers', async () => {
    const run = await runCli(['inspect', 'ping', '-d', 'other@host', '--timeout', '0.2', ...APP]);
    expect(run.code).toBe(69);
  });

  it('refuses an unknown inspect command with exit 2', async () => {
    const run = await runCli(['inspect', 'everything', ...APP]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown inspect command "everything"');
  });
});

describe('taskq control', () => {
  it('sets a rate limit and prints the worker’s answer', async () => {
    const run = await runCli(['control', 'rate_limit', 'math.add', '10/m', ...APP]);
    expect(run.stdout).toBe('->  cli-w1@test: OK\n        new rate limit set successfully\n\n1 node online.\n');
  });

  it('prints an ERROR status for a refused command', async () => {
    const run = await runCli(['control', 'rate_limit', 'nope', '10/m', ...APP]);
    expect(run.stdout).toBe('->  cli-w1@test: ERROR\n        unknown task\n\n1 node online.\n');
  });

  it('revokes task ids', async () => {
    const run = await runCli(['control', 'revoke', 'id-1', 'id-2', '--json', ...APP]);
    expect(JSON.parse(run.stdout)).toEqual({ 'cli-w1@test': { ok: 'tasks id-1, id-2 flagged as revoked' } });
  });

  it('needs the arguments of its command (exit 2)', async () => {
    const run = await runCli(['control', 'terminate', 'SIGKILL', ...APP]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('missing signal and task id(s)');
  });
});

describe('taskq events', () => {
  it('prints worker heartbeats as JSON lines', async () => {
    const run = await runCli(['events', '--json', '--duration', '2.5', ...APP]);
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; hostname: string });
    expect(events.some((e) => e.type === 'worker-heartbeat' && e.hostname === 'cli-w1@test')).toBe(true);
  });
});

describe('taskq purge', () => {
  it('with -f, empties the queues without asking and says how many messages went', async () => {
    const run = await runCli(['purge', '-Q', 'to-purge', '-f', '--app', './purge-app.ts']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('Purged 3 messages from 1 known task queue.\n');
  });

  it('asks first, and purges nothing unless the answer is y', async () => {
    const child = spawn(process.execPath, [BIN, 'purge', '-Q', 'to-purge', '--app', './purge-app.ts'], { cwd: FIXTURES, env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end('n\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('Are you sure you want to delete all tasks (y/N)?');
    expect(stderr).toContain('Nothing purged.');
    expect(stdout).toBe('');
  });
});

describe('reply formatting (Celery’s pretty)', () => {
  it('shows an empty list as - empty -', () => {
    expect(formatReply({ 'w@h': [] })).toBe('->  w@h: OK\n    - empty -\n');
  });

  it('shows list items as Python’s repr, one per line, as Celery prints request dicts', () => {
    expect(formatReply({ 'w@h': [{ id: 'x', args: [1], time_start: null, acknowledged: true }] })).toBe(
      "->  w@h: OK\n    * {'id': 'x', 'args': [1], 'time_start': None, 'acknowledged': True}\n",
    );
  });

  it('shows an error reply with the ERROR status', () => {
    expect(prettyReply({ error: 'unknown task' })).toEqual(['ERROR', '    unknown task']);
  });
});
