/** The dashboard's HTTP API against a real taskq worker on memory://: what it shows, and who may act. */
import { request } from 'node:http';
import { type App, createLogger } from '@taskq/core';
import { createTestApp, until } from '@taskq/core/testing';
import { Worker } from '@taskq/worker';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACTION_HEADER, type Dashboard, type DashboardOptions, type Snapshot, startDashboard, type TaskView } from '../src/index.js';

const HOST = 'dash-w1@test';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Fleet {
  app: App;
  worker: Worker;
  dashboard: Dashboard;
}

/** An app with an `add` task, a worker sending task events, and a dashboard on a free port. */
async function fleet(options: Partial<Omit<DashboardOptions, 'app'>> = {}): Promise<Fleet> {
  const app = createTestApp({ name: 'dash' });
  app.task('add', (a: number, b: number) => a + b);
  app.task('boom', () => {
    throw new Error('kaboom');
  });
  // The dashboard first, so it sees the worker come online.
  const dashboard = await startDashboard({ app, port: 0, pollIntervalMs: 200, inspectTimeout: 0.2, ...options });
  const worker = new Worker(app, { hostname: HOST, sendTaskEvents: true, concurrency: 2 });
  await worker.start();
  cleanups.push(async () => {
    await dashboard.close();
    await worker.stop({ cold: true });
    await app.close();
  });
  return { app, worker, dashboard };
}

async function getJson<T>(d: Dashboard, path: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(d.url + path, { headers });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

function post(d: Dashboard, path: string, body: unknown, headers: Record<string, string> = { [ACTION_HEADER]: '1' }): Promise<Response> {
  return fetch(d.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** Poll an async check until it holds (the core `until` takes sync checks only). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A request with a chosen Host header, as a browser sends after DNS rebinding
 * (fetch will not let a test set Host; node:http will). Resolves with the status.
 */
function withHost(d: Dashboard, host: string, path: string, method: 'GET' | 'POST' = 'GET', headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(d.url + path, { method, headers: { ...headers, host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

const basic = (credentials: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });

describe('what the dashboard shows', () => {
  it('serves the page and its script from itself (no CDN)', async () => {
    const { dashboard } = await fleet();
    const html = await (await fetch(`${dashboard.url}/`)).text();
    expect(html).toContain('<script type="module" src="/app.js">');
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    const js = await fetch(`${dashboard.url}/app.js`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it('lists the worker with its pool, concurrency and queues from inspect', async () => {
    const { dashboard } = await fleet();
    await eventually(async () => (await getJson<Snapshot>(dashboard, '/api/snapshot')).workers.some((w) => w.concurrency !== null && w.queues.length > 0), 'the first poll');
    const snap = await getJson<Snapshot>(dashboard, '/api/snapshot');
    expect(snap.workers).toEqual([expect.objectContaining({ hostname: HOST, online: true, pool: 'taskq:async', concurrency: 2, queues: ['celery'], swIdent: 'taskq' })]);
    expect(snap.queues).toEqual([expect.objectContaining({ name: 'celery', depth: 0 })]);
  });

  it('shows a task that succeeded, with its result and runtime', async () => {
    const { app, dashboard } = await fleet();
    const r = await app.sendTask('add', [2, 3]);
    await until(() => dashboard.state.task(r.id)?.state === 'SUCCESS');
    const { task, meta } = await getJson<{ task: TaskView; meta: { status: string; result: unknown } }>(dashboard, `/api/tasks/${r.id}`);
    expect(task).toMatchObject({ uuid: r.id, name: 'add', state: 'SUCCESS', args: '(2, 3)', result: '5', worker: HOST });
    expect(meta).toMatchObject({ status: 'SUCCESS', result: 5 });
  });

  it('shows a failed task with its traceback, and filters tasks by state', async () => {
    const { app, dashboard } = await fleet();
    const ok = await app.sendTask('add', [1, 1]);
    const bad = await app.sendTask('boom');
    await until(() => dashboard.state.task(bad.id)?.state === 'FAILURE' && dashboard.state.task(ok.id)?.state === 'SUCCESS');
    const failed = await getJson<TaskView[]>(dashboard, '/api/tasks?state=FAILURE');
    expect(failed.map((t) => t.uuid)).toEqual([bad.id]);
    expect(failed[0]?.traceback).toContain('kaboom');
  });

  it('answers 404 for a task it never heard of', async () => {
    const { dashboard } = await fleet();
    expect((await fetch(`${dashboard.url}/api/tasks/no-such-task`)).status).toBe(404);
  });

  it('answers 400, not 500, for a task id with a malformed percent-escape', async () => {
    const { dashboard } = await fleet();
    const res = await fetch(`${dashboard.url}/api/tasks/%E0%A4%A`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/malformed percent-escape/);
  });

  it('streams snapshots as server-sent events', async () => {
    const { dashboard } = await fleet();
    const res = await fetch(`${dashboard.url}/api/events`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^retry: 2000\nevent: snapshot\ndata: \{"now":/);
    await reader.cancel();
  });
});

describe('actions', () => {
  it('revokes a waiting countdown task, and marks it as asked until the worker reports it revoked', async () => {
    const { app, dashboard } = await fleet();
    // Workers drop a revoked countdown task when it comes due (as Celery): 3 s leaves room for the 1 s reply window.
    const r = await app.sendTask('add', [1, 2], {}, { countdown: 3 });
    await until(() => dashboard.state.task(r.id)?.state === 'RECEIVED');
    const res = await post(dashboard, `/api/tasks/${r.id}/revoke`, { terminate: false });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, replies: [{ [HOST]: { ok: `tasks ${r.id} flagged as revoked` } }] });
    expect(dashboard.state.task(r.id)).toMatchObject({ state: 'RECEIVED', revokeRequested: true });
    await until(() => dashboard.state.task(r.id)?.state === 'REVOKED', 10_000, 'task-revoked');
    expect(await app.AsyncResult(r.id).state).toBe('REVOKED');
  });

  it('changes a rate limit on the workers', async () => {
    const { dashboard } = await fleet();
    const res = await post(dashboard, '/api/rate-limit', { task: 'add', rate: '10/m' });
    expect(await res.json()).toEqual({ ok: true, replies: [{ [HOST]: { ok: 'new rate limit set successfully' } }] });
  });

  it('grows a worker’s pool', async () => {
    const { app, dashboard } = await fleet();
    const res = await post(dashboard, `/api/workers/${encodeURIComponent(HOST)}/pool`, { op: 'grow', n: 1 });
    expect(res.status).toBe(200);
    const stats = await app.control.inspect({ timeout: 0.3 }).stats();
    expect(stats?.[HOST]?.pool).toMatchObject({ 'max-concurrency': 3 });
  });

  it('refuses a rate that is not a rate limit', async () => {
    const { dashboard } = await fleet();
    const res = await post(dashboard, '/api/rate-limit', { task: 'add', rate: 'fast' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/not a rate limit/);
  });

  it('answers 400, not 500, for an action on a malformed percent-escaped name', async () => {
    const { dashboard } = await fleet();
    for (const path of ['/api/tasks/%ZZ/revoke', '/api/workers/%E0%A4%A/shutdown', '/api/workers/%/pool']) {
      const res = await post(dashboard, path, { op: 'grow' });
      expect(res.status, path).toBe(400);
    }
  });

  it('refuses an action without the dashboard’s header (a forged cross-site form)', async () => {
    const { dashboard } = await fleet();
    expect((await post(dashboard, '/api/rate-limit', { task: 'add', rate: '1/s' }, {})).status).toBe(403);
  });
});

describe('read-only mode', () => {
  it('refuses every action with 403 and says so in the snapshot', async () => {
    const { app, dashboard } = await fleet({ readOnly: true });
    const r = await app.sendTask('add', [1, 2], {}, { countdown: 3600 });
    for (const [path, body] of [
      [`/api/tasks/${r.id}/revoke`, {}],
      [`/api/workers/${HOST}/shutdown`, {}],
      [`/api/workers/${HOST}/pool`, { op: 'shrink' }],
      ['/api/rate-limit', { task: 'add', rate: '1/s' }],
    ] as const) {
      const res = await post(dashboard, path, body);
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as { error: string }).error).toMatch(/read-only/);
    }
    expect((await getJson<{ readOnly: boolean }>(dashboard, '/api/snapshot')).readOnly).toBe(true);
  });
});

describe('basic auth', () => {
  it('asks for credentials without them, and refuses wrong ones', async () => {
    const { dashboard } = await fleet({ basicAuth: 'admin:s3cret' });
    const none = await fetch(`${dashboard.url}/`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expect((await fetch(`${dashboard.url}/api/snapshot`, { headers: basic('admin:wrong') })).status).toBe(401);
    expect((await fetch(`${dashboard.url}/api/snapshot`, { headers: basic('admin:s3cre') })).status).toBe(401);
    expect((await fetch(`${dashboard.url}/api/snapshot`, { headers: basic('admin:s3cret!') })).status).toBe(401);
    expect((await post(dashboard, '/api/rate-limit', { task: 'add', rate: '1/s' })).status).toBe(401);
  });

  it('serves the page and runs actions with the right credentials', async () => {
    const { dashboard } = await fleet({ basicAuth: 'admin:s3cret' });
    await getJson(dashboard, '/api/snapshot', basic('admin:s3cret'));
    const res = await post(dashboard, '/api/rate-limit', { task: 'add', rate: '1/s' }, { [ACTION_HEADER]: '1', ...basic('admin:s3cret') });
    expect(res.status).toBe(200);
  });
});

describe('Host check (DNS rebinding)', () => {
  it('refuses a page and an action under a foreign Host, even with the action header', async () => {
    const { dashboard } = await fleet();
    const port = new URL(dashboard.url).port;
    expect(await withHost(dashboard, `evil.example:${port}`, '/api/snapshot')).toBe(403);
    expect(await withHost(dashboard, `evil.example:${port}`, `/api/workers/${HOST}/shutdown`, 'POST', { [ACTION_HEADER]: '1' })).toBe(403);
  });

  it('answers localhost and the bound address on its port', async () => {
    const { dashboard } = await fleet();
    const port = new URL(dashboard.url).port;
    expect(await withHost(dashboard, `localhost:${port}`, '/api/snapshot')).toBe(200);
    expect(await withHost(dashboard, `127.0.0.1:${port}`, '/api/snapshot')).toBe(200);
  });

  it('answers a name on the allowedHosts list', async () => {
    const { dashboard } = await fleet({ allowedHosts: ['dash.example.com'] });
    expect(await withHost(dashboard, 'dash.example.com', '/api/snapshot')).toBe(200);
    expect(await withHost(dashboard, 'other.example.com', '/api/snapshot')).toBe(403);
  });

  it('bound to every interface with no allow-list, answers any Host and warns at start', async () => {
    const logger = createLogger('silent');
    const warn = vi.spyOn(logger, 'warn');
    const { dashboard } = await fleet({ address: '0.0.0.0', logger });
    expect(await withHost(dashboard, 'anything.example', '/api/snapshot')).toBe(200);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ address: '0.0.0.0' }), expect.stringMatching(/any Host header.*allowedHosts/));
  });

  it('does not warn when bound to loopback', async () => {
    const logger = createLogger('silent');
    const warn = vi.spyOn(logger, 'warn');
    await fleet({ logger });
    expect(warn).not.toHaveBeenCalledWith(expect.anything(), expect.stringMatching(/any Host header/));
  });
});
