/**
 * Remote control, inspect and events between taskq and Python Celery: Celery's
 * own CLI inspects and controls a taskq worker and `taskq inspect` reaches a
 * Python worker; Celery's event receiver sees a taskq worker's events and
 * `taskq events` a Python worker's — over Redis and RabbitMQ. Redis
 * db 5 is this file's own: pidbox and event channels are per database
 * (`/5.celery.pidbox`), so no other test's workers answer there; on RabbitMQ
 * the exchanges are shared, so every request names its destination.
 */
import { randomUUID } from 'node:crypto';
import { type App, createApp, createLogger } from '@taskq/core';
import { Worker } from '@taskq/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { celeryCli, startCeleryEventReceiver, startTaskqEvents, taskqCli, waitFor } from '../src/control.js';
import { type PeerUrls, type PythonWorker, startPythonWorker } from '../src/python.js';
import { amqpRedisTransport, uniqueQueue } from '../src/transports.js';

const URL_ = `${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'}/5`;
const py = { brokerUrl: URL_, backendUrl: URL_ };

interface Side {
  name: string;
  /** taskq's broker, backend and transport options. */
  brokerUrl: string;
  backendUrl: string;
  brokerTransportOptions?: Record<string, unknown>;
  py: PeerUrls;
}

const SIDES: Side[] = [
  { name: 'redis', brokerUrl: URL_, backendUrl: URL_, py },
  {
    name: 'amqp',
    brokerUrl: amqpRedisTransport.brokerUrl,
    backendUrl: URL_,
    brokerTransportOptions: amqpRedisTransport.brokerTransportOptions,
    py: { ...amqpRedisTransport.py, backendUrl: URL_ },
  },
];

function controlApp(side: Side = SIDES[0]!): App {
  const app = createApp({
    name: 'control-interop',
    brokerUrl: side.brokerUrl,
    resultBackend: side.backendUrl,
    brokerTransportOptions: side.brokerTransportOptions ?? {},
    logger: createLogger('error'),
    env: {},
  });
  app.task('control.add', (a: number, b: number) => a + b);
  app.task(
    'control.sleep',
    (ctx, seconds: number) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => resolve('slept'), seconds * 1000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(ctx.signal.reason);
        });
      }),
    { bind: true },
  );
  return app;
}

for (const side of SIDES) {
  describe(`Celery’s CLI -> a taskq worker (${side.name})`, () => {
    const node = `taskq-ctl-${randomUUID().slice(0, 6)}@interop`;
    const queue = uniqueQueue('ctl');
    let app: App;
    let worker: Worker;

    beforeAll(async () => {
      app = controlApp(side);
      worker = new Worker(app, { hostname: node, queues: [queue] });
      await worker.start();
    });
    afterAll(async () => {
      await worker?.stop({ cold: true });
    });

    it('celery inspect ping gets pong from the taskq worker', async () => {
      const r = await celeryCli(side.py, ['inspect', 'ping', '-d', node, '--timeout', '5', '-j']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ [node]: { ok: 'pong' } });
    });

    it('celery inspect ping prints Celery’s text for the taskq worker', async () => {
      const r = await celeryCli(side.py, ['inspect', 'ping', '-d', node, '--timeout', '5']);
      expect(r.stdout).toContain(`->  ${node}: OK\n        pong`);
      expect(r.stdout).toContain('1 node online.');
    });

    it('celery inspect registered lists the taskq worker’s tasks', async () => {
      const r = await celeryCli(side.py, ['inspect', 'registered', '-d', node, '--timeout', '5', '-j']);
      expect(JSON.parse(r.stdout)).toEqual({ [node]: ['control.add', 'control.sleep'] });
    });

    it('celery inspect active shows the task the taskq worker runs, and celery control terminate stops it', async () => {
      const running = await app.sendTask('control.sleep', [60], {}, { queue });
      await waitFor(() => worker.stats().active === 1, 10_000, 'the task to start');
      const r = await celeryCli(side.py, ['inspect', 'active', '-d', node, '--timeout', '5', '-j']);
      const active = JSON.parse(r.stdout)[node] as Array<{ id: string; name: string; args: unknown[] }>;
      expect(active).toEqual([expect.objectContaining({ id: running.id, name: 'control.sleep', args: [60] })]);
      const t = await celeryCli(side.py, ['control', 'terminate', 'SIGTERM', running.id, '-d', node, '--timeout', '5']);
      expect(t.stdout).toContain(`terminate: ${running.id}`);
      expect((await (await app.getBackend()).wait(running.id, { timeoutMs: 10_000 })).status).toBe('REVOKED');
    });

    it('celery control revoke revokes a countdown task on the taskq worker: it ends REVOKED, never run', async () => {
      const later = await app.sendTask('control.add', [1, 2], {}, { queue, countdown: 3 });
      await waitFor(() => worker.stats().scheduled === 1, 10_000, 'the countdown task to be held');
      const r = await celeryCli(side.py, ['control', 'revoke', later.id, '-d', node, '--timeout', '5']);
      expect(r.stdout).toContain(`->  ${node}: OK\n        tasks ${later.id} flagged as revoked`);
      const meta = await (await app.getBackend()).wait(later.id, { timeoutMs: 15_000 });
      expect(meta.status).toBe('REVOKED');
      expect(worker.stats().processed['control.add'] ?? 0).toBe(0);
    });
  });

  describe(`taskq inspect -> a Python Celery worker (${side.name})`, () => {
    const queue = uniqueQueue('ctlpy');
    let python: PythonWorker;
    let pyNode: string;

    beforeAll(async () => {
      python = await startPythonWorker(side.py, [queue]);
      // run_worker.sh names it pyapp-<pid>@<host>; ask everyone and find it.
      const r = await taskqCli(side.brokerUrl, ['inspect', 'ping', '--timeout', '3', '--json']);
      pyNode = Object.keys(JSON.parse(r.stdout)).find((n) => n.startsWith(`pyapp-${python.pid}@`))!;
      expect(pyNode, r.stdout + r.stderr).toBeDefined();
    });
    afterAll(async () => {
      await python?.stop();
    });

    it('taskq inspect ping gets pong from the Python worker, printed as Celery does', async () => {
      const r = await taskqCli(side.brokerUrl, ['inspect', 'ping', '-d', pyNode, '--timeout', '10']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`->  ${pyNode}: OK\n        pong\n\n1 node online.\n`);
    });

    it('taskq inspect registered and stats read the Python worker', async () => {
      const reg = JSON.parse((await taskqCli(side.brokerUrl, ['inspect', 'registered', '-d', pyNode, '--timeout', '10', '--json'])).stdout);
      expect(reg[pyNode]).toContain('pyapp.add');
      const stats = JSON.parse((await taskqCli(side.brokerUrl, ['inspect', 'stats', '-d', pyNode, '--timeout', '10', '--json'])).stdout);
      expect(stats[pyNode]).toMatchObject({ pid: python.pid, pool: { 'max-concurrency': 4 }, broker: { transport: side.name === 'redis' ? 'redis' : 'amqp' } });
    });

    it('taskq inspect exits 69 when the destination does not answer', async () => {
      const r = await taskqCli(side.brokerUrl, ['inspect', 'ping', '-d', 'nobody@nowhere', '--timeout', '0.5']);
      expect(r.code).toBe(69);
      expect(r.stderr).toContain('No nodes replied within time constraint');
    });
  });
}

for (const side of SIDES) {
  describe(`events between taskq and Python Celery (${side.name})`, () => {
    it('Celery’s event receiver sees a taskq worker’s worker and task events', async () => {
      const app = controlApp(side);
      const node = `taskq-ev-${randomUUID().slice(0, 6)}@interop`;
      const queue = uniqueQueue('ev');
      const receiver = await startCeleryEventReceiver(side.py);
      const worker = new Worker(app, { hostname: node, queues: [queue], sendTaskEvents: true });
      try {
        await worker.start();
        const r = await app.sendTask('control.add', [2, 3], {}, { queue });
        const mine = () => receiver.json<{ type: string; hostname: string; uuid?: string }>().filter((e) => e.hostname === node);
        await waitFor(() => mine().some((e) => e.type === 'task-succeeded' && e.uuid === r.id), 15_000, 'task-succeeded from taskq');
        await waitFor(() => mine().some((e) => e.type === 'worker-heartbeat'), 15_000, 'a heartbeat from taskq');
        expect(mine().filter((e) => e.uuid === r.id).map((e) => e.type)).toEqual(['task-received', 'task-started', 'task-succeeded']);
        expect(mine()[0]).toMatchObject({ type: 'worker-online', sw_ident: 'taskq', freq: 2 });
        expect(mine().find((e) => e.type === 'task-succeeded')).toMatchObject({ result: '5' });
      } finally {
        await worker.stop();
        await receiver.stop();
      }
    });

    it('taskq events sees a Python worker’s heartbeats and (with -E) its task events', async () => {
      const queue = uniqueQueue('evpy');
      const events = startTaskqEvents(side.brokerUrl);
      const python = await startPythonWorker(side.py, [queue], ['-E']);
      const app = controlApp(side);
      try {
        const host = `pyapp-${python.pid}@`;
        const theirs = () => events.json<{ type: string; hostname: string; uuid?: string }>().filter((e) => e.hostname.startsWith(host));
        // A heartbeat seen means `taskq events` is subscribed: what follows is not missed.
        await waitFor(() => theirs().some((e) => e.type === 'worker-heartbeat'), 20_000, 'a heartbeat from the Python worker');
        const r = await app.sendTask('pyapp.add', [20, 22], {}, { queue });
        await waitFor(() => theirs().some((e) => e.type === 'task-succeeded' && e.uuid === r.id), 20_000, 'task-succeeded from Python');
        expect(theirs().filter((e) => e.uuid === r.id).map((e) => e.type)).toEqual(['task-received', 'task-started', 'task-succeeded']);
        expect(theirs().find((e) => e.type === 'task-succeeded' && e.uuid === r.id)).toMatchObject({ result: '42' });
      } finally {
        await python.stop();
        await events.stop();
        await app.close();
      }
    });
  });
}
