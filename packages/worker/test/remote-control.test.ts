/** Remote control and inspect against a running worker (memory://): the replies Celery's tools expect, and the controls acting on the worker. */
import { randomUUID } from 'node:crypto';
import { type CeleryEvent, createMemoryBroker, EVENT_EXCHANGE, EventReceiver } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { createHarness, gate, until } from './helpers/harness.js';

const HOST = 'w1@test';

describe('inspect', () => {
  it('answers ping with pong under its node name', async () => {
    const h = createHarness();
    await h.startWorker({ hostname: HOST });
    expect(await h.app.control.inspect({ timeout: 0.5 }).ping()).toEqual({ [HOST]: { ok: 'pong' } });
  });

  it('lists registered tasks, sorted, with the asked task info', async () => {
    const h = createHarness();
    h.app.task('b.two', () => 2, { rateLimit: '10/m' });
    h.app.task('a.one', () => 1);
    await h.startWorker({ hostname: HOST });
    const inspect = h.app.control.inspect({ timeout: 0.5 });
    expect(await inspect.registered()).toEqual({ [HOST]: ['a.one', 'b.two'] });
    expect(await inspect.registered('rate_limit')).toEqual({ [HOST]: ['a.one', 'b.two [rate_limit=10/m]'] });
  });

  it('shows a running task in active, with Celery’s request fields', async () => {
    const h = createHarness();
    const hold = gate();
    h.app.task('slow', async (n: number) => {
      await hold.promise;
      return n;
    });
    const worker = await h.startWorker({ hostname: HOST });
    const r = await h.app.sendTask('slow', [7]);
    await until(() => worker.stats().active === 1);
    const active = await h.app.control.inspect({ timeout: 0.5 }).active();
    expect(active).toEqual({
      [HOST]: [
        expect.objectContaining({
          id: r.id,
          name: 'slow',
          args: [7],
          kwargs: {},
          type: 'slow',
          hostname: HOST,
          time_start: expect.any(Number),
          acknowledged: true,
          delivery_info: { exchange: '', routing_key: 'celery', priority: 0, redelivered: false },
          worker_pid: process.pid,
        }),
      ],
    });
    hold.open();
  });

  it('shows a countdown task in scheduled with its eta, and a task waiting for a slot in reserved', async () => {
    const h = createHarness();
    const hold = gate();
    h.app.task('slow', () => hold.promise);
    h.app.task('later', () => 1);
    const worker = await h.startWorker({ hostname: HOST, concurrency: 1 });
    await h.app.sendTask('slow');
    const waiting = await h.app.sendTask('slow');
    const later = await h.app.sendTask('later', [], {}, { countdown: 3600 });
    await until(() => worker.stats().scheduled === 1 && worker.stats().reserved === 1);
    const inspect = h.app.control.inspect({ timeout: 0.5 });
    const scheduled = (await inspect.scheduled())![HOST] as Array<{ eta: string; request: { id: string } }>;
    expect(scheduled.map((s) => s.request.id)).toEqual([later.id]);
    expect(Date.parse(scheduled[0]!.eta)).toBeGreaterThan(Date.now() + 3000_000);
    expect(((await inspect.reserved())![HOST] as Array<{ id: string }>).map((r) => r.id)).toEqual([waiting.id]);
    hold.open();
  });

  it('reports stats: totals per task, pid, pool, prefetch, uptime, broker and rusage', async () => {
    const h = createHarness();
    h.app.task('add', (a: number, b: number) => a + b);
    const worker = await h.startWorker({ hostname: HOST, concurrency: 3 });
    await h.app.sendTask('add', [1, 2]);
    await until(() => worker.stats().processed.add === 1);
    const stats = (await h.app.control.inspect({ timeout: 0.5 }).stats())![HOST]!;
    expect(stats).toMatchObject({
      total: { add: 1 },
      pid: process.pid,
      pool: { 'max-concurrency': 3, implementation: 'taskq:async' },
      prefetch_count: 12,
      broker: { transport: 'memory' },
      rusage: { utime: expect.any(Number), maxrss: expect.any(Number) },
    });
    expect(typeof stats.clock).toBe('string');
  });

  it('lists its consumed queues in active_queues', async () => {
    const h = createHarness();
    await h.startWorker({ hostname: HOST, queues: ['celery', 'emails'] });
    const queues = (await h.app.control.inspect({ timeout: 0.5 }).activeQueues())![HOST] as Array<{ name: string; routing_key: string }>;
    expect(queues.map((q) => [q.name, q.routing_key])).toEqual([
      ['celery', 'celery'],
      ['emails', 'emails'],
    ]);
  });

  it('ignores requests addressed to another node', async () => {
    const h = createHarness();
    await h.startWorker({ hostname: HOST });
    await h.startWorker({ hostname: 'w2@test' });
    expect(await h.app.control.inspect({ destination: ['w2@test'], timeout: 0.5 }).ping()).toEqual({ 'w2@test': { ok: 'pong' } });
  });
});

describe('control', () => {
  it('revokes a countdown task: it is discarded as REVOKED when it comes due', async () => {
    const h = createHarness();
    let ran = false;
    h.app.task('later', () => {
      ran = true;
    });
    await h.startWorker({ hostname: HOST });
    const r = await h.app.sendTask('later', [], {}, { countdown: 0.3 });
    const replies = await h.app.control.revoke(r.id, { reply: true, timeout: 0.5 });
    expect(replies).toEqual([{ [HOST]: { ok: `tasks ${r.id} flagged as revoked` } }]);
    expect(await h.app.control.inspect({ timeout: 0.5 }).revoked()).toEqual({ [HOST]: [r.id] });
    expect((await h.result(r.id)).status).toBe('REVOKED');
    expect(ran).toBe(false);
  });

  it('terminates a running task', async () => {
    const h = createHarness();
    h.app.task(
      'loop',
      (ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
        }),
      { bind: true },
    );
    const worker = await h.startWorker({ hostname: HOST });
    const r = await h.app.sendTask('loop');
    await until(() => worker.stats().active === 1);
    expect(await h.app.control.terminate(r.id, { reply: true, timeout: 0.5 })).toEqual([{ [HOST]: { ok: `terminate: ${r.id}` } }]);
    expect((await h.result(r.id)).status).toBe('REVOKED');
  });

  it('sets a rate limit, and refuses an unknown task or a bad rate', async () => {
    const h = createHarness();
    h.app.task('t', () => 1);
    await h.startWorker({ hostname: HOST });
    const c = h.app.control;
    expect(await c.rateLimit('t', '5/m', { reply: true, timeout: 0.5 })).toEqual([{ [HOST]: { ok: 'new rate limit set successfully' } }]);
    expect(await c.rateLimit('nope', '5/m', { reply: true, timeout: 0.5 })).toEqual([{ [HOST]: { error: 'unknown task' } }]);
    expect((await c.rateLimit('t', 'fast', { reply: true, timeout: 0.5 }))[0]![HOST]).toMatchObject({ error: expect.stringContaining('Invalid rate limit string') });
  });

  it('grows and shrinks the pool', async () => {
    const h = createHarness();
    await h.startWorker({ hostname: HOST, concurrency: 4 });
    expect(await h.app.control.poolGrow(2, { reply: true, timeout: 0.5 })).toEqual([{ [HOST]: { ok: 'pool will grow' } }]);
    expect(await h.app.control.poolShrink(1, { reply: true, timeout: 0.5 })).toEqual([{ [HOST]: { ok: 'pool will shrink' } }]);
    const stats = (await h.app.control.inspect({ timeout: 0.5 }).stats())![HOST] as { pool: Record<string, unknown> };
    expect(stats.pool['max-concurrency']).toBe(5);
  });

  it('shuts the worker down on shutdown', async () => {
    const h = createHarness();
    const worker = await h.startWorker({ hostname: HOST });
    await h.app.control.shutdown();
    await worker.stopped;
  });

  it('consumes one more queue on add_consumer, and stops on cancel_consumer', async () => {
    const h = createHarness();
    h.app.task('add', (a: number, b: number) => a + b);
    await h.startWorker({ hostname: HOST });
    const c = h.app.control;
    expect(await c.addConsumer('emails', { reply: true, timeout: 0.5 })).toEqual([{ [HOST]: { ok: 'add consumer emails' } }]);
    const r = await h.app.sendTask('add', [2, 2], {}, { queue: 'emails' });
    expect((await h.result(r.id)).result).toBe(4);
    const queues = (await c.inspect({ timeout: 0.5 }).activeQueues())![HOST] as Array<{ name: string }>;
    expect(queues.map((q) => q.name)).toEqual(['celery', 'emails']);
    expect(await c.cancelConsumer('emails', { reply: true, timeout: 0.5 })).toEqual([{ [HOST]: { ok: "no longer consuming from 'emails'" } }]);
    const [refused] = await c.cancelConsumer('celery', { reply: true, timeout: 0.5 });
    expect(refused![HOST]).toMatchObject({ error: expect.stringContaining('was given at start') });
  });
});

describe('events', () => {
  async function receiver(h: ReturnType<typeof createHarness>): Promise<{ events: CeleryEvent[]; close(): Promise<void> }> {
    const events: CeleryEvent[] = [];
    // Its own broker on the app's memory:// host, so it outlives the worker's (closed at stop).
    const fanout = createMemoryBroker(h.app.conf.brokerUrl).fanout();
    const r = new EventReceiver({ fanout, onEvent: (e) => events.push(e) });
    await r.start();
    return { events, close: () => r.close() };
  }

  it('sends worker-online, and task events in order with sendTaskEvents', async () => {
    const h = createHarness();
    h.app.task('add', (a: number, b: number) => a + b);
    h.app.task('boom', () => {
      throw new TypeError('bad');
    });
    const rec = await receiver(h);
    await h.startWorker({ hostname: HOST, sendTaskEvents: true });
    const ok = await h.app.sendTask('add', [2, 3]);
    const bad = await h.app.sendTask('boom');
    await until(() => rec.events.filter((e) => e.type === 'task-succeeded' || e.type === 'task-failed').length === 2);
    expect(rec.events[0]).toMatchObject({ type: 'worker-online', hostname: HOST, freq: 2, sw_ident: 'taskq' });
    const of = (id: string) => rec.events.filter((e) => e.uuid === id).map((e) => e.type);
    expect(of(ok.id)).toEqual(['task-received', 'task-started', 'task-succeeded']);
    expect(of(bad.id)).toEqual(['task-received', 'task-started', 'task-failed']);
    expect(rec.events.find((e) => e.type === 'task-received' && e.uuid === ok.id)).toMatchObject({ name: 'add', args: '(2, 3)', kwargs: '{}', retries: 0 });
    expect(rec.events.find((e) => e.type === 'task-succeeded')).toMatchObject({ result: '5', runtime: expect.any(Number) });
    expect(rec.events.find((e) => e.type === 'task-failed')).toMatchObject({ exception: "TypeError('bad')" });
    await rec.close();
  });

  it("batches task events as Celery's worker does: list bodies on task.multi, each event stamped with its own clock, all sent by stop", async () => {
    const h = createHarness();
    h.app.task('add', (a: number, b: number) => a + b);
    // The raw messages on the events exchange, not the receiver's unpacked events.
    const fanout = createMemoryBroker(h.app.conf.brokerUrl).fanout();
    const messages: { routingKey: string; body: unknown }[] = [];
    const sub = await fanout.subscribe({ exchange: EVENT_EXCHANGE, bindingKey: '#', queue: 'raw-events' }, (m) => messages.push({ routingKey: m.routingKey, body: m.body }));
    const worker = await h.startWorker({ hostname: HOST, sendTaskEvents: true });
    const sent = await Promise.all(Array.from({ length: 30 }, (_, i) => h.app.sendTask('add', [i, 1])));
    await Promise.all(sent.map((r) => h.result(r.id)));
    await worker.stop();
    // worker-offline goes out after the last task events: once it is here, they are too.
    await until(() => messages.some((m) => m.routingKey === 'worker.offline'));
    const taskMessages = messages.filter((m) => m.routingKey === 'task.multi');
    const events = taskMessages.flatMap((m) => m.body as CeleryEvent[]);
    // 90 events (received, started, succeeded × 30) in far fewer messages, none over the buffer's 24.
    expect(events).toHaveLength(90);
    expect(taskMessages.length).toBeLessThan(90 / 2);
    for (const m of taskMessages) expect((m.body as unknown[]).length).toBeLessThanOrEqual(24);
    expect(messages.some((m) => m.routingKey.startsWith('task.') && m.routingKey !== 'task.multi')).toBe(false);
    const clocks = events.map((e) => e.clock);
    expect(new Set(clocks).size).toBe(90);
    for (const r of sent) expect(events.filter((e) => e.uuid === r.id).map((e) => e.type)).toEqual(['task-received', 'task-started', 'task-succeeded']);
    await sub.close();
  });

  it('sends no task events without sendTaskEvents, and worker-offline on stop', async () => {
    const h = createHarness();
    h.app.task('add', (a: number, b: number) => a + b);
    const rec = await receiver(h);
    const worker = await h.startWorker({ hostname: HOST });
    const r = await h.app.sendTask('add', [2, 3]);
    await h.result(r.id);
    await worker.stop();
    await until(() => rec.events.some((e) => e.type === 'worker-offline'));
    expect(rec.events.filter((e) => e.type.startsWith('task-'))).toEqual([]);
  });
});

describe('metrics', () => {
  it('serves Prometheus text: tasks by state, runtime histogram, held tasks and queue depth', async () => {
    const h = createHarness();
    h.app.task('add', (a: number, b: number) => a + b);
    const worker = await h.startWorker({ hostname: HOST, metricsPort: 0, metricsHost: '127.0.0.1' });
    const r = await h.app.sendTask('add', [1, 1]);
    await h.result(r.id);
    await h.app.sendTask('add', [1, 1], {}, { queue: 'celery', countdown: 3600, taskId: randomUUID() });
    await until(() => worker.stats().scheduled === 1);
    const res = await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain(`taskq_tasks_total{worker="${HOST}",name="add",state="succeeded"} 1`);
    expect(text).toContain(`taskq_task_runtime_seconds_count{worker="${HOST}",name="add"} 1`);
    expect(text).toContain(`taskq_worker_prefetched_tasks{worker="${HOST}",state="scheduled"} 1`);
    expect(text).toContain(`taskq_queue_depth{worker="${HOST}",queue="celery"} 0`);
    expect(text).toContain('# TYPE taskq_task_runtime_seconds histogram');
  });

  it('binds the loopback interface by default: the endpoint has no authentication', async () => {
    const h = createHarness();
    const worker = await h.startWorker({ hostname: HOST, metricsPort: 0 });
    expect(worker.metricsHost).toBe('127.0.0.1');
  });

  it('binds the interface given as metricsHost', async () => {
    const h = createHarness();
    const worker = await h.startWorker({ hostname: HOST, metricsPort: 0, metricsHost: '0.0.0.0' });
    expect(worker.metricsHost).toBe('0.0.0.0');
  });

  it('refuses to start on a metrics port that is taken, naming it', async () => {
    const h = createHarness();
    const first = await h.startWorker({ hostname: HOST, metricsPort: 0, metricsHost: '127.0.0.1' });
    await expect(h.startWorker({ hostname: 'w2@test', metricsPort: first.metricsPort!, metricsHost: '127.0.0.1' })).rejects.toThrow(`cannot serve metrics on port ${first.metricsPort}`);
  });
});
