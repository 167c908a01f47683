/** The dashboard's fleet model, fed Celery events captured from Python Celery 5.2 and events as taskq workers send them. */
import { readFileSync } from 'node:fs';
import { buildEvent, type CeleryEvent, eventsOf } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { FleetState } from '../src/index.js';

interface Captured {
  event: string;
  body: unknown;
}

/** Every event Python Celery sent in the capture, in order (task.multi batches unpacked). */
const celeryEvents: CeleryEvent[] = (JSON.parse(readFileSync(new URL('./fixtures/celery-events.json', import.meta.url), 'utf8')) as Captured[]).flatMap((c) => eventsOf(c.body));

/** A state on a clock the test moves. */
function clocked(start = 1_000_000_000_000): { state: FleetState; advance(ms: number): void } {
  let now = start;
  return { state: new FleetState({ now: () => now, seriesStepMs: 10_000, seriesWindowMs: 60_000, rateWindowMs: 60_000 }), advance: (ms) => (now += ms) };
}

let clock = 0;
function ev(type: string, fields: Record<string, unknown>, hostname = 'w1@host', timestamp = 1000 + clock): CeleryEvent {
  clock += 1;
  return buildEvent(type, fields, { hostname, clock, timestamp });
}

describe('tasks from Python Celery events', () => {
  const state = new FleetState();
  for (const e of celeryEvents) state.apply(e);

  it('shows a sent task as PENDING with its name, args and queue', () => {
    expect(state.task('a3f74348-ed4b-4424-b5d1-3b7f8b8a2380')).toMatchObject({ name: 'interop.add', state: 'PENDING', args: '(1, 1)', kwargs: '{}', queue: 'celery' });
  });

  it('keeps the result repr and runtime of a succeeded task', () => {
    const t = state.task('e67037cd-9636-4a1e-a80e-8bbb9b40dae1');
    expect(t).toMatchObject({ state: 'SUCCESS', worker: 'interop-celery_other-9624@vm' });
    expect(t?.result).toContain('héllo ✓');
    expect(t?.runtime).toBeCloseTo(0.0138, 3);
  });

  it('keeps the exception and traceback of a failed task', () => {
    const t = state.task('60fa0e8e-8b55-4791-86d8-08a51c7fa895');
    expect(t).toMatchObject({ state: 'FAILURE', exception: 'ExceptionWithTraceback()' });
    expect(t?.traceback).toMatch(/^Traceback \(most recent call last\)/);
  });

  it('counts a retry and ends in SUCCESS after it, keeping the name from task-received', () => {
    expect(state.task('6b5120e3-bc42-4097-b174-8e2167cb73bc')).toMatchObject({ name: 'interop.retry_once', state: 'SUCCESS', retries: 1, result: "{'key': 'k1', 'retries': 1}" });
  });

  it('filters tasks by state and by name', () => {
    expect(state.listTasks({ state: 'FAILURE' }).map((t) => t.uuid)).toEqual(['60fa0e8e-8b55-4791-86d8-08a51c7fa895']);
    expect(state.listTasks({ name: 'retry' }).map((t) => t.uuid)).toEqual(['6b5120e3-bc42-4097-b174-8e2167cb73bc']);
  });

  it('marks a worker that sent worker-offline as offline', () => {
    expect(state.listWorkers().find((w) => w.hostname === 'interop-celery_other-9624@vm')).toMatchObject({ online: false, processed: 4, swIdent: 'py-celery' });
  });
});

describe('workers', () => {
  it('is online after worker-online, with its heartbeat age, and offline once heartbeats stop for twice their freq', () => {
    const { state, advance } = clocked();
    state.apply(ev('worker-online', { freq: 2, active: 0, processed: 0, loadavg: [0.5, 0.4, 0.3], sw_ident: 'taskq', sw_ver: '0.0.0' }));
    advance(1500);
    expect(state.listWorkers()).toEqual([expect.objectContaining({ hostname: 'w1@host', online: true, heartbeatAge: 1.5, loadavg: [0.5, 0.4, 0.3], swIdent: 'taskq' })]);
    advance(3000);
    expect(state.listWorkers()[0]).toMatchObject({ online: false, heartbeatAge: 4.5 });
    state.apply(ev('worker-heartbeat', { freq: 2, active: 1, processed: 7 }));
    expect(state.listWorkers()[0]).toMatchObject({ online: true, heartbeatAge: 0, active: 1, processed: 7 });
  });

  it('takes pool, concurrency and queues from inspect replies', () => {
    const state = new FleetState();
    state.applyStats('w1@host', { pid: 42, pool: { implementation: 'taskq:async', 'max-concurrency': 8 } });
    state.applyActiveQueues('w1@host', [{ name: 'celery' }, { name: 'mail' }]);
    expect(state.listWorkers()[0]).toMatchObject({ pool: 'taskq:async', concurrency: 8, pid: 42, queues: ['celery', 'mail'] });
    expect(state.queueNames()).toEqual(['celery', 'mail']);
  });

  it('adds a running task it missed the events of from inspect active', () => {
    const state = new FleetState();
    state.applyActive('w1@host', [{ id: 't1', name: 'slow', args: [1], kwargs: {}, time_start: 1000, delivery_info: { routing_key: 'celery' } }]);
    expect(state.task('t1')).toMatchObject({ state: 'STARTED', name: 'slow', args: '[1]', queue: 'celery', worker: 'w1@host' });
    expect(state.listWorkers()[0]?.activeTasks).toEqual(['t1']);
  });
});

describe('task states', () => {
  it('follows the latest event: a task-sent arriving after task-succeeded does not undo it', () => {
    const state = new FleetState();
    state.apply(ev('task-succeeded', { uuid: 'a', result: '3', runtime: 0.01 }, 'w1@host', 2000));
    state.apply(ev('task-sent', { uuid: 'a', name: 'add', args: '(1, 2)', queue: 'celery' }, 'client@host', 1999));
    expect(state.task('a')).toMatchObject({ state: 'SUCCESS', name: 'add', queue: 'celery', worker: 'w1@host' });
  });

  it('shows a revoked task as REVOKED', () => {
    const state = new FleetState();
    state.apply(ev('task-received', { uuid: 'r', name: 'later', args: '()', kwargs: '{}', eta: '2030-01-01T00:00:00' }));
    state.apply(ev('task-revoked', { uuid: 'r', terminated: false, expired: false }));
    expect(state.task('r')).toMatchObject({ state: 'REVOKED', eta: '2030-01-01T00:00:00' });
  });

  it('forgets the oldest tasks beyond maxTasks', () => {
    const state = new FleetState({ maxTasks: 2 });
    for (const id of ['1', '2', '3']) state.apply(ev('task-received', { uuid: id, name: 'n' }));
    expect(state.listTasks().map((t) => t.uuid)).toEqual(['3', '2']);
  });
});

describe('throughput and queues', () => {
  it('counts successes and failures per second in the bucket they arrived in', () => {
    const { state, advance } = clocked();
    state.apply(ev('task-succeeded', { uuid: 'a' }));
    state.apply(ev('task-succeeded', { uuid: 'b' }));
    state.apply(ev('task-failed', { uuid: 'c', exception: 'E()' }));
    advance(10_000);
    state.apply(ev('task-succeeded', { uuid: 'd' }));
    const s = state.series();
    expect(s.succeeded.slice(-2)).toEqual([0.2, 0.1]);
    expect(s.failed.slice(-2)).toEqual([0.1, 0]);
    expect(s.succeeded).toHaveLength(6);
  });

  it('derives queue rates: out from receipts, in from the depth change plus what went out', () => {
    const { state, advance } = clocked();
    state.applyActiveQueues('w1@host', [{ name: 'jobs' }]);
    state.recordDepth('jobs', 10);
    advance(10_000);
    for (const id of ['1', '2', '3']) state.apply(ev('task-received', { uuid: id, name: 'n' }));
    state.recordDepth('jobs', 27);
    // 3 out in the 60 s window; 17 more waiting plus 3 taken out = 20 in over 10 s.
    expect(state.listQueues()).toEqual([{ name: 'jobs', depth: 27, rateIn: 2, rateOut: 0.05 }]);
  });

  it('shows queues given with --queues even when no worker consumes them', () => {
    const state = new FleetState();
    state.addQueue('idle');
    expect(state.listQueues()).toEqual([{ name: 'idle', depth: null, rateIn: 0, rateOut: 0 }]);
  });
});
