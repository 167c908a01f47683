import { type MemoryBroker, NON_ERROR_THROWN, Reject, toWireMessage } from '@taskq/core';
import { createDownResultBackend } from '@taskq/core/testing';
import { describe, expect, it } from 'vitest';
import { createHarness, gate, until } from './helpers/harness.js';

describe('Worker: running tasks', () => {
  it('runs a task and stores SUCCESS with its return value', async () => {
    const { app, startWorker, result } = createHarness();
    const add = app.task('math.add', (a: number, b: number) => a + b);
    const worker = await startWorker();
    const sent = await add.delay(2, 3);
    expect(await result(sent.id)).toMatchObject({ status: 'SUCCESS', result: 5 });
    await until(() => worker.stats().processed['math.add'] === 1, 5000, 'the task counted as processed');
  });

  it('runs no more than `concurrency` tasks at once', async () => {
    const { app, startWorker, result } = createHarness();
    const gates: Array<() => void> = [];
    let running = 0;
    let maxRunning = 0;
    const slow = app.task('test.slow', async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      const g = gate();
      gates.push(g.open);
      await g.promise;
      running--;
    });
    const worker = await startWorker({ concurrency: 3, prefetchMultiplier: 4 });
    const sent = await Promise.all(Array.from({ length: 10 }, () => slow.delay()));
    // Everything is prefetched (12 ≥ 10): 3 running, the other 7 wait for a slot in the worker.
    await until(() => worker.stats().active === 3 && worker.stats().reserved === 7, 5000, '3 active and 7 reserved');
    expect(running).toBe(3);
    while (gates.length > 0 || running > 0) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    for (const r of sent) expect((await result(r.id)).status).toBe('SUCCESS');
    expect(maxRunning).toBe(3);
  });

  it('stores FAILURE with the error type and message when a task throws', async () => {
    const { app, startWorker, result } = createHarness();
    class PaymentDeclinedError extends Error {
      override name = 'PaymentDeclinedError';
    }
    const charge = app.task('billing.charge', (amount: number) => {
      throw new PaymentDeclinedError(`card declined for ${amount}`);
    });
    await startWorker();
    const sent = await charge.delay(42);
    const meta = await result(sent.id);
    expect(meta.status).toBe('FAILURE');
    expect(meta.result).toMatchObject({ exc_type: 'PaymentDeclinedError', exc_message: ['card declined for 42'] });
    expect(meta.traceback).toContain('PaymentDeclinedError');
  });

  it('stores FAILURE for a task that throws a non-Error value, and keeps running', async () => {
    const { app, startWorker, result } = createHarness();
    const odd = app.task('test.odd', () => {
      throw 'just a string';
    });
    const ping = app.task('test.ping', () => 'pong');
    await startWorker();
    const sent = await odd.delay();
    const next = await ping.delay();
    const meta = await result(sent.id);
    expect(meta.status).toBe('FAILURE');
    expect(meta.result).toMatchObject({ exc_type: NON_ERROR_THROWN, exc_message: [expect.stringContaining('just a string')] });
    expect((await result(next.id)).status).toBe('SUCCESS');
  });

  it('fails an unknown task name with NotRegistered, acks it and keeps processing', async () => {
    const { app, logs, startWorker, result } = createHarness();
    const ping = app.task('test.ping', () => 'pong');
    const worker = await startWorker();
    const unknown = await app.sendTask('nobody.implements.this', [1]);
    const next = await ping.delay();
    expect(await result(unknown.id)).toMatchObject({ status: 'FAILURE', result: { exc_type: 'NotRegistered' } });
    expect(await result(next.id)).toMatchObject({ status: 'SUCCESS', result: 'pong' });
    expect(await (await app.getBroker()).queueSize('celery')).toBe(0);
    const line = logs.find((l) => l.level === 50 && l.taskId === unknown.id);
    expect(line).toMatchObject({ taskName: 'nobody.implements.this' });
    expect(line!.msg).toContain('unregistered task');
    await until(() => worker.stats().processed['test.ping'] === 1, 5000, 'test.ping counted as processed');
    expect(worker.stats().processed).toEqual({ 'test.ping': 1 });
  });

  it('acks an acksLate task that ran when its result cannot be stored, reporting its outcome and logging the failure', async () => {
    const { app, logs, startWorker } = createHarness({ backend: createDownResultBackend() });
    app.task('test.late', () => 'done', { acksLate: true });
    const worker = await startWorker();
    const sent = await app.sendTask('test.late');
    await until(() => worker.stats().processed['test.late'] === 1, 5000, 'the task counted as processed');
    await worker.stop();
    const broker = (await app.getBroker()) as MemoryBroker;
    expect(broker.deadLetters('celery')).toHaveLength(0);
    expect(await broker.queueSize('celery')).toBe(0);
    expect(logs.find((l) => l.msg.startsWith('Task test.late[') && l.msg.includes('succeeded'))).toBeDefined();
    expect(logs.find((l) => l.level === 50 && l.msg.includes('failed to store result'))).toMatchObject({ taskId: sent.id, taskName: 'test.late' });
  });

  it('logs a malformed message (dead-lettered by the transport) and runs the next one', async () => {
    const { app, logs, startWorker, result } = createHarness();
    const ping = app.task('test.ping', () => 'pong');
    await startWorker();
    const broker = (await app.getBroker()) as MemoryBroker;
    const wire = toWireMessage(app.buildMessage('test.ping', [], {}, {}));
    broker.publishWire({ ...wire, body: '[[], {}, {"callbacks": nul' }, 'celery');
    const next = await ping.delay();
    expect(await result(next.id)).toMatchObject({ status: 'SUCCESS' });
    expect(broker.deadLetters('celery')).toHaveLength(1);
    const line = logs.find((l) => l.level === 50 && typeof l.deadLetteredTo === 'string');
    expect(line).toMatchObject({ queue: 'celery' });
    expect(line!.msg).toContain('invalid message');
  });

  it('consumes every queue it is given, and only those', async () => {
    const { app, startWorker, result } = createHarness();
    const ping = app.task('test.ping', () => 'pong');
    await startWorker({ queues: ['a', 'b'] });
    const [a, b] = [await ping.applyAsync([], { queue: 'a' }), await ping.applyAsync([], { queue: 'b' })];
    await ping.applyAsync([], { queue: 'c' });
    expect((await result(a.id)).status).toBe('SUCCESS');
    expect((await result(b.id)).status).toBe('SUCCESS');
    expect(await (await app.getBroker()).queueSize('c')).toBe(1);
  });

  it('rejects the message when an acksLate task raises Reject, requeueing it if asked', async () => {
    const { app, startWorker } = createHarness();
    let calls = 0;
    const picky = app.task('test.picky', () => {
      calls++;
      if (calls === 1) throw new Reject('not now', true);
      return 'ok';
    }, { acksLate: true });
    await startWorker();
    const sent = await picky.delay();
    expect(await sent.get({ timeout: 5000 })).toBe('ok');
    expect(calls).toBe(2);
  });
});

describe('Worker: logs', () => {
  it('logs a banner with the app, transport, queues, concurrency and registered tasks', async () => {
    const { app, logs, startWorker } = createHarness();
    app.task('email.send', () => undefined);
    app.task('reports.build', () => undefined);
    await startWorker({ queues: ['celery', 'email'], concurrency: 4 });
    const banner = logs.find((l) => l.banner !== undefined)!;
    expect(banner.banner).toMatchObject({ app: 'taskq', transport: 'memory', concurrency: 4, pool: 'async', prefetch: 16, queues: ['celery', 'email'], tasks: ['email.send', 'reports.build'] });
    expect(banner.msg).toContain('.> transport:   memory://test-');
    expect(banner.msg).toContain('  . email.send');
    expect(banner.msg).toContain('.> email');
  });

  it('logs received and succeeded lines with the task id and name, never the arguments', async () => {
    const { app, logs, startWorker, result } = createHarness();
    const greet = app.task('test.greet', (name: string) => `hello ${name}`);
    await startWorker();
    const sent = await greet.delay('s3cret-name');
    await result(sent.id);
    await until(() => logs.some((l) => l.taskId === sent.id && /succeeded/.test(l.msg)), 5000, 'the succeeded line');
    const lines = logs.filter((l) => l.taskId === sent.id);
    expect(lines.map((l) => l.msg)).toEqual([`Task test.greet[${sent.id}] received`, expect.stringMatching(/^Task test\.greet\[.*\] succeeded in \d+\.\d+s$/)]);
    expect(lines.every((l) => l.taskName === 'test.greet' && l.component === 'worker')).toBe(true);
    expect(typeof lines[1]!.runtime).toBe('number');
    expect(JSON.stringify(logs)).not.toContain('s3cret-name');
  });

  it('logs a failed line with the error', async () => {
    const { app, logs, startWorker, result } = createHarness();
    const boom = app.task('test.boom', () => {
      throw new TypeError('bad input');
    });
    await startWorker();
    const sent = await boom.delay();
    await result(sent.id);
    await until(() => logs.some((l) => l.taskId === sent.id && l.level === 50), 5000, 'the failed line');
    const line = logs.find((l) => l.taskId === sent.id && l.level === 50)!;
    expect(line.msg).toMatch(/failed in .*: TypeError: bad input/);
    expect(line.err).toMatchObject({ type: 'TypeError', message: 'bad input' });
  });
});
