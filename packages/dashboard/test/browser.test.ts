/**
 * End to end in a real browser: Debian's Chromium (driven by playwright-core)
 * opens the dashboard, which watches a taskq worker on Redis with task events
 * on; a task appears and succeeds, a countdown task is revoked through the
 * page (confirming the dialog), and a screenshot is saved.
 *
 * Needs Redis at 127.0.0.1:6379 (db 5 is this file's) and /usr/bin/chromium
 * (.ci/run installs it); fails loudly when either is missing.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type App, createApp, createLogger } from '@taskq/core';
import { Worker } from '@taskq/worker';
import { Redis } from 'ioredis';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Dashboard, startDashboard } from '../src/index.js';

const DB = 5;
const REDIS_URL = `redis://127.0.0.1:6379/${DB}`;
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('./artifacts/', import.meta.url);
const run = randomUUID().slice(0, 8);
const QUEUE = `dash-e2e-${run}`;
const HOST = `e2e-${run}@test`;

function redisApp(name: string): App {
  return createApp({ name, brokerUrl: REDIS_URL, resultBackend: REDIS_URL, defaultQueue: QUEUE, logger: createLogger('silent'), env: {} });
}

describe('the dashboard in Chromium, against a worker on Redis', () => {
  let redis: Redis;
  let keysBefore: Set<string>;
  let client: App;
  let workerApp: App;
  let dashboardApp: App;
  let worker: Worker;
  let dashboard: Dashboard;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.ping(); // no Redis: fail here, never skip
    keysBefore = new Set(await redis.keys('*'));
    // Three apps as three processes would have: the one sending tasks, the worker's, the dashboard's.
    client = redisApp('e2e-client');
    workerApp = redisApp('e2e-worker');
    workerApp.task('e2e.add', (a: number, b: number) => a + b);
    workerApp.task('e2e.fail', () => {
      throw new Error('the e2e test asked for a failure');
    });
    dashboardApp = redisApp('e2e-dashboard');
    dashboard = await startDashboard({ app: dashboardApp, port: 0, pollIntervalMs: 500, inspectTimeout: 0.3, queues: [QUEUE] });
    worker = new Worker(workerApp, { hostname: HOST, sendTaskEvents: true, queues: [QUEUE], concurrency: 2 });
    await worker.start();
    profile = mkdtempSync(path.join(tmpdir(), 'taskq-dashboard-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 860 },
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await dashboard?.close();
    await worker?.stop({ cold: true });
    for (const app of [client, workerApp, dashboardApp]) await app?.close();
    if (redis) {
      // db 5 is this file's: delete what this run made, leave what was there before.
      const made = (await redis.keys('*')).filter((k) => !keysBefore.has(k));
      if (made.length > 0) await redis.del(...made);
      await redis.quit();
    }
  });

  it('shows the worker online with its pool and queue', async () => {
    await page.goto(`${dashboard.url}/#/workers`);
    const row = page.locator(`tr[data-worker="${HOST}"]`);
    await expect.poll(() => row.locator('td').nth(1).textContent(), { timeout: 15_000 }).toBe('online');
    await expect.poll(() => row.locator('td').nth(9).textContent(), { timeout: 15_000 }).toBe(QUEUE);
  });

  it('shows a task appear and succeed, with its result on its detail page', async () => {
    await page.goto(`${dashboard.url}/#/tasks`);
    const r = await client.sendTask('e2e.add', [20, 22]);
    const row = page.locator(`tr[data-task-id="${r.id}"]`);
    await expect.poll(() => row.locator('td.state').textContent(), { timeout: 15_000 }).toBe('SUCCESS');
    await row.locator('a').click();
    await expect.poll(() => page.locator('#task-result').textContent(), { timeout: 10_000 }).toBe('42');
  });

  it('revokes a countdown task after the confirmation dialog', async () => {
    await page.goto(`${dashboard.url}/#/tasks`);
    // The worker holds the task until its eta and drops it then, reporting task-revoked (as Celery does).
    const r = await client.sendTask('e2e.add', [1, 2], {}, { countdown: 6 });
    const row = page.locator(`tr[data-task-id="${r.id}"]`);
    await expect.poll(() => row.locator('td.state').textContent(), { timeout: 15_000 }).toBe('RECEIVED');
    const dialogs: string[] = [];
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await row.locator('button[data-action="revoke"]').click();
    await expect.poll(() => dialogs, { timeout: 10_000 }).toEqual([`Revoke e2e.add[${r.id}]? It will not run.`]);
    // Without the revoke the task would succeed when due.
    await expect.poll(() => row.locator('td.state').textContent(), { timeout: 20_000 }).toBe('REVOKED');
    expect(await client.AsyncResult(r.id).state).toBe('REVOKED');
  });

  it('shows a failed task, draws the throughput chart and saves a screenshot', async () => {
    await page.goto(`${dashboard.url}/#/tasks`);
    const r = await client.sendTask('e2e.fail');
    await expect.poll(() => page.locator(`tr[data-task-id="${r.id}"] td.state`).textContent(), { timeout: 15_000 }).toBe('FAILURE');
    expect(await page.locator('#throughput polyline.succeeded').count()).toBe(1);
    expect(await page.locator('#throughput polyline.failed').count()).toBe(1);
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = new URL('dashboard.png', ARTIFACTS);
    await page.screenshot({ path: file.pathname, fullPage: true });
    expect(existsSync(file)).toBe(true);
  });
});
