/**
 * taskq <-> Python Celery, both directions, over one transport: a real Python
 * Celery worker runs tasks taskq sends, and a taskq worker runs tasks Python
 * sends; each side reads the other's results.
 */
import { type App, createApp, createLogger, TaskFailedError, TaskRevokedError, TimeoutError } from '@taskq/core';
import { until } from '@taskq/core/testing';
import { Worker } from '@taskq/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PythonWorker, pythonReadResult, pythonSend, startPythonWorker } from './python.js';
import { type InteropTransport, uniqueQueue } from './transports.js';

class PaymentDeclinedError extends Error {
  override name = 'PaymentDeclinedError';
}

const UNICODE = { u: 'héllo ✓ 𝄞 日本', nested: [1, [2, [3, null]], { t: true, f: false }], n: null, f: -1e-7, big: 2n ** 70n };

/** The TS side's app: the ts.* tasks, and `ran`, the tags of ts.whoami runs in the order they ran. */
export function makeTsApp(transport: InteropTransport): App & { ran: string[] } {
  const app = createApp({
    name: 'interop-ts',
    brokerUrl: transport.brokerUrl,
    resultBackend: transport.backendUrl,
    brokerTransportOptions: transport.brokerTransportOptions ?? {},
    logger: createLogger(process.env.TASKQ_LOG_LEVEL ?? 'silent'),
    env: {},
  });
  const ran: string[] = [];
  app.task('ts.add', (x: number, y: number) => x + y);
  app.task('ts.echo', (value: unknown) => value);
  app.task('ts.fail', (message: string) => {
    throw new TypeError(message);
  });
  app.task('ts.decline', (message: string) => {
    throw new PaymentDeclinedError(message);
  });
  app.task(
    'ts.retry_once',
    (ctx, key: string) => {
      if (ctx.request.retries === 0) ctx.retry({ countdown: 1 });
      return { key, retries: ctx.request.retries };
    },
    { bind: true },
  );
  app.task(
    'ts.whoami',
    (ctx, tag: string) => {
      ran.push(tag);
      return { tag, eta: ctx.request.eta, at: Date.now() / 1000 };
    },
    { bind: true },
  );
  return Object.assign(app, { ran });
}

export function describeInterop(transport: InteropTransport): void {
  const py = transport.py;

  describe(`Python Celery -> taskq worker over ${transport.name}`, () => {
    const queue = uniqueQueue('py2ts');
    let app: ReturnType<typeof makeTsApp>;
    let worker: Worker;

    beforeAll(async () => {
      app = makeTsApp(transport);
      worker = new Worker(app, { queues: [queue], concurrency: 4 });
      await worker.start();
    });
    afterAll(async () => {
      await worker?.stop();
      await app?.close();
    });

    it('runs a task Python sent and Python reads the value', async () => {
      const out = await pythonSend(py, 'ts.add', [2, 3], { queue });
      expect(out).toMatchObject({ status: 'SUCCESS', result: 5 });
    });

    it('shows Python the exception type and message of a failing task', async () => {
      const out = await pythonSend(py, 'ts.fail', ['bad arg ✗'], { queue });
      expect(out).toMatchObject({ status: 'FAILURE', exc_type: 'TypeError', exc_module: 'builtins', exc_message: ['bad arg ✗'] });
    });

    it('gives Python a class named like a custom TS error', async () => {
      const out = await pythonSend(py, 'ts.decline', ['card expired'], { queue });
      expect(out).toMatchObject({ status: 'FAILURE', exc_type: 'PaymentDeclinedError', exc_message: ['card expired'] });
    });

    it('ends a retried task in SUCCESS on the Python side', async () => {
      const out = await pythonSend(py, 'ts.retry_once', ['k1'], { queue });
      expect(out).toMatchObject({ status: 'SUCCESS', result: { key: 'k1', retries: 1 } });
    });

    it('honours a countdown set in Python', async () => {
      const sentAt = Date.now() / 1000;
      const out = await pythonSend(py, 'ts.whoami', ['cd'], { queue, countdown: 2 });
      const result = out.result as { eta: string; at: number };
      expect(out.status).toBe('SUCCESS');
      expect(result.eta).toMatch(/\+00:00$/);
      expect(result.at).toBeGreaterThanOrEqual(sentAt + 1.9);
    });

    it('round-trips unicode, nesting, null, big integers and floats unchanged', async () => {
      const out = await pythonSend(py, 'ts.echo', [UNICODE], { queue });
      expect(out.status).toBe('SUCCESS');
      expect(out.result).toEqual(UNICODE);
    });

    it('round-trips a 1 MB payload', async () => {
      const big = 'é'.repeat(512 * 1024);
      const out = await pythonSend(py, 'ts.echo', [big], { queue });
      expect(out.result).toBe(big);
    });

    it('does not run a task that expired before it was received', async () => {
      const idle = uniqueQueue('py2ts-expired');
      const sent = await pythonSend(py, 'ts.add', [1, 1], { queue: idle, expires: 1, wait: 0 });
      await new Promise((r) => setTimeout(r, 1500));
      const late = new Worker(app, { queues: [idle], concurrency: 1 });
      await late.start();
      try {
        if (transport.brokerDropsExpired) {
          // The broker discards it (per-message TTL): nothing to run. Absence needs a wait.
          await new Promise((r) => setTimeout(r, 1500));
          expect(late.stats().processed['ts.add'] ?? 0).toBe(0);
        } else {
          const out = await pythonReadResult(py, sent.task_id, 20);
          expect(out).toMatchObject({ status: 'REVOKED', exc_type: 'TaskRevokedError' });
        }
      } finally {
        await late.stop();
      }
    });

    it('consumes Python-sent priorities in the broker’s order', async () => {
      const idle = uniqueQueue('py2ts-priority');
      for (const p of [9, 0, 6]) await pythonSend(py, 'ts.whoami', [`p${p}`], { queue: idle, priority: p, wait: 0 });
      app.ran.length = 0;
      const one = new Worker(app, { queues: [idle], concurrency: 1, prefetchMultiplier: 1 });
      await one.start();
      try {
        await until(() => app.ran.length === 3, 20_000, 'three runs');
        expect(app.ran).toEqual(transport.priorityOrder === 'lowest-first' ? ['p0', 'p6', 'p9'] : ['p9', 'p6', 'p0']);
      } finally {
        await one.stop();
      }
    });
  });

  describe(`taskq -> Python Celery worker over ${transport.name}`, () => {
    const queue = uniqueQueue('ts2py');
    let app: ReturnType<typeof makeTsApp>;
    let pyWorker: PythonWorker;

    beforeAll(async () => {
      app = makeTsApp(transport);
      pyWorker = await startPythonWorker(py, [queue]);
    });
    afterAll(async () => {
      await pyWorker?.stop();
      await app?.close();
    });

    it('runs a taskq-sent task in Python and taskq reads the value', async () => {
      const result = await app.sendTask('pyapp.add', [2, 3], {}, { queue });
      expect(await result.get({ timeout: 20_000 })).toBe(5);
    });

    it('rethrows a Python failure with its exception type and message', async () => {
      const result = await app.sendTask('pyapp.fail', ['boom ✗'], {}, { queue });
      const error = await result.get({ timeout: 20_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskFailedError);
      expect(error).toMatchObject({ excType: 'ValueError', excModule: 'builtins', excMessage: ['boom ✗'] });
      expect((error as TaskFailedError).remoteTraceback).toContain('ValueError: boom');
    });

    it('sees a Python retry end in SUCCESS', async () => {
      const result = await app.sendTask('pyapp.retry_once', ['k2'], {}, { queue });
      expect(await result.get({ timeout: 20_000 })).toEqual({ key: 'k2', retries: 1 });
    });

    it('passes keyword arguments to Python', async () => {
      const result = await app.sendTask('pyapp.add', [], { x: 40, y: 2 }, { queue });
      expect(await result.get({ timeout: 20_000 })).toBe(42);
    });

    it('has Python honour a taskq countdown', async () => {
      const sentAt = Date.now() / 1000;
      const result = await app.sendTask('pyapp.whoami', ['cd'], {}, { queue, countdown: 2 });
      const out = (await result.get({ timeout: 20_000 })) as { eta: string; time: number };
      expect(out.eta).not.toBeNull();
      expect(out.time).toBeGreaterThanOrEqual(sentAt + 1.9);
    });

    it('round-trips unicode, nesting, null, big integers and floats through Python unchanged', async () => {
      const result = await app.sendTask('pyapp.echo', [UNICODE], {}, { queue });
      expect(await result.get({ timeout: 20_000 })).toEqual(UNICODE);
    });

    it('round-trips a 1 MB payload through Python', async () => {
      const big = '✓'.repeat(350 * 1024);
      const result = await app.sendTask('pyapp.echo', [big], {}, { queue });
      expect(await result.get({ timeout: 20_000 })).toBe(big);
    });

    it('has Python skip a task that expired before it was received', async () => {
      const idle = uniqueQueue('ts2py-expired');
      const result = await app.sendTask('pyapp.add', [1, 1], {}, { queue: idle, expires: 1 });
      await new Promise((r) => setTimeout(r, 1500));
      const late = await startPythonWorker(py, [idle]);
      try {
        if (transport.brokerDropsExpired) {
          // RabbitMQ drops it (expiration property): it never runs, no state is stored.
          await expect(result.get({ timeout: 3000 })).rejects.toBeInstanceOf(TimeoutError);
        } else {
          await expect(result.get({ timeout: 20_000 })).rejects.toBeInstanceOf(TaskRevokedError);
        }
      } finally {
        await late.stop();
      }
    });

    it('has Python consume taskq priorities in the broker’s order', async () => {
      const idle = uniqueQueue('ts2py-priority');
      const results = new Map<number, Awaited<ReturnType<App['sendTask']>>>();
      for (const p of [9, 0, 6]) results.set(p, await app.sendTask('pyapp.whoami', [`p${p}`], {}, { queue: idle, priority: p }));
      const one = await startPythonWorker(py, [idle], [], { PYAPP_CONCURRENCY: '1', PYAPP_PREFETCH: '1' });
      try {
        const ran = await Promise.all([...results].map(async ([p, r]) => ({ p, at: ((await r.get({ timeout: 20_000 })) as { time: number }).time })));
        expect(ran.sort((a, b) => a.at - b.at).map((r) => r.p)).toEqual(transport.priorityOrder === 'lowest-first' ? [0, 6, 9] : [9, 6, 0]);
      } finally {
        await one.stop();
      }
    });
  });
}
