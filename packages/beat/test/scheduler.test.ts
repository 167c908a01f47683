import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { until } from '@taskq/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Beat, crontab, every, FileScheduleStore, type LeaderLock } from '../src/index.js';
import { FakeClock, MemoryScheduleStore } from '../src/testing.js';
import { at, iso, recordingApp } from './helpers/recording-app.js';

const START = '2025-01-01T00:00:03Z';

function heartbeatApp() {
  return recordingApp((app) => {
    app.task('monitor.heartbeat', (source: string) => source);
    app.task('cleanup.purge', (days: number) => days);
  });
}

describe('the scheduler, on a fake clock', () => {
  it('starts counting a new entry from now: an every(10) entry first runs at the next slot', async () => {
    const app = heartbeatApp();
    const clock = new FakeClock(at(START));
    const beat = new Beat(app, { clock, store: new MemoryScheduleStore(), schedule: { hb: { task: 'monitor.heartbeat', schedule: every(10), args: ['beat'] } } });

    expect((await beat.tick()).sent).toEqual([]);
    clock.set(at('2025-01-01T00:00:10Z'));
    const { sent } = await beat.tick();
    expect(sent.map((s) => [s.name, iso(s.slot)])).toEqual([['hb', '2025-01-01T00:00:10Z']]);
    expect(app.sent).toMatchObject([{ task: 'monitor.heartbeat', args: ['beat'], kwargs: {} }]);
  });

  it('sends each tick once, with the entry options and its expires', async () => {
    const app = heartbeatApp();
    const clock = new FakeClock(at(START));
    const schedule = { purge: { task: 'cleanup.purge', schedule: every(10), args: [30], kwargs: {}, options: { queue: 'maintenance', priority: 3, expires: 8 } } };
    const beat = new Beat(app, { clock, store: new MemoryScheduleStore(), schedule });
    await beat.tick();
    clock.set(at('2025-01-01T00:00:10Z'));
    await beat.tick();
    clock.set(at('2025-01-01T00:00:12Z'));
    await beat.tick();

    expect(app.sent).toHaveLength(1);
    expect(app.sent[0]!.options).toMatchObject({
      queue: 'maintenance',
      priority: 3,
      expires: 8,
      headers: { taskq_beat_entry: 'purge', taskq_beat_slot: '2025-01-01T00:00:10.000000+00:00' },
    });
  });

  it('runs a missed entry once after downtime, not once per missed slot', async () => {
    const app = heartbeatApp();
    const clock = new FakeClock(at(START));
    const beat = new Beat(app, { clock, store: new MemoryScheduleStore(), schedule: { hb: { task: 'monitor.heartbeat', schedule: every(10), args: ['x'] } } });
    await beat.tick();
    clock.set(at('2025-01-01T01:00:05Z')); // an hour down: 360 slots missed
    const { sent } = await beat.tick();
    expect(sent.map((s) => iso(s.slot))).toEqual(['2025-01-01T01:00:00Z']);
    expect(app.sent).toHaveLength(1);
  });

  it('says how long to sleep: until the next due entry, at most maxInterval', async () => {
    const app = heartbeatApp();
    const clock = new FakeClock(at(START));
    const schedule = { hb: { task: 'monitor.heartbeat', schedule: every(10), args: ['x'] }, nightly: { task: 'cleanup.purge', schedule: crontab({ minute: 0, hour: 0 }), args: [1] } };
    expect((await new Beat(app, { clock, store: new MemoryScheduleStore(), schedule }).tick()).sleepMs).toBe(7000);
    expect((await new Beat(app, { clock, store: new MemoryScheduleStore(), schedule, maxInterval: 2 }).tick()).sleepMs).toBe(2000);
  });

  it('sends nothing while another process holds the leader lock', async () => {
    const app = heartbeatApp();
    const clock = new FakeClock(at(START));
    const lock: LeaderLock = { ttlMs: 3000, acquire: async () => false, release: async () => {} };
    const beat = new Beat(app, { clock, lock, store: new MemoryScheduleStore(), schedule: { hb: { task: 'monitor.heartbeat', schedule: 1, args: ['x'] } } });
    clock.set(at('2025-01-01T00:10:00Z'));
    const result = await beat.tick();
    expect(result).toMatchObject({ leader: false, sent: [] });
    expect(result.sleepMs).toBe(1000); // a third of the lock's TTL: ready to take over in time
    expect(app.sent).toEqual([]);
  });

  it('logs a send that fails and moves on; that tick is not sent again (at most once)', async () => {
    const app = heartbeatApp();
    const clock = new FakeClock(at(START));
    const beat = new Beat(app, { clock, store: new MemoryScheduleStore(), schedule: { hb: { task: 'monitor.heartbeat', schedule: 10, args: ['x'] } } });
    await beat.tick();
    const send = app.sendTask;
    app.sendTask = async () => {
      throw new Error('broker down');
    };
    clock.set(at('2025-01-01T00:00:10Z'));
    expect((await beat.tick()).sent).toEqual([]);
    app.sendTask = send;
    expect((await beat.tick()).sent).toEqual([]);
    clock.set(at('2025-01-01T00:00:20Z'));
    expect((await beat.tick()).sent.map((s) => iso(s.slot))).toEqual(['2025-01-01T00:00:20Z']);
  });

  it('runs a daily 02:30 Europe/Berlin job once on each DST change day, checking every 5 minutes', async () => {
    const app = heartbeatApp();
    const clock = new FakeClock(at('2025-03-29T12:00:00Z'));
    const beat = new Beat(app, { clock, timezone: 'Europe/Berlin', store: new MemoryScheduleStore(), schedule: { nightly: { task: 'cleanup.purge', schedule: crontab({ minute: 30, hour: 2 }), args: [1] } } });
    const slots: string[] = [];
    const walk = async (from: string, to: string): Promise<void> => {
      for (clock.set(at(from)); clock.now() <= at(to); clock.advance(5 * 60_000)) slots.push(...(await beat.tick()).sent.map((s) => iso(s.slot)));
    };
    await walk('2025-03-29T12:00:00Z', '2025-03-31T12:00:00Z');
    await walk('2025-10-25T12:00:00Z', '2025-10-27T12:00:00Z');
    expect(slots).toEqual([
      '2025-03-30T01:30:00Z', // spring forward: 02:30 does not exist; runs at 03:30 CEST
      '2025-03-31T00:30:00Z', // 02:30 CEST
      // (the gap from March to October is one missed run, sent once at the first check:)
      '2025-10-25T00:30:00Z',
      '2025-10-26T00:30:00Z', // fall back: the first 02:30 (CEST), not the second (CET)
      '2025-10-27T01:30:00Z', // 02:30 CET
    ]);
  });

  it('runs its loop on the injected clock: start, advance, stop', async () => {
    const app = heartbeatApp();
    const clock = new FakeClock(at(START));
    const beat = new Beat(app, { clock, store: new MemoryScheduleStore(), schedule: { hb: { task: 'monitor.heartbeat', schedule: 5, args: ['loop'] } } });
    await beat.start();
    for (let i = 0; i < 3; i++) {
      await until(() => clock.waiting === 1, 5000, 'the loop to sleep');
      clock.advance(5000);
      await until(() => app.sent.length === i + 1, 5000, `tick ${i + 1}`);
    }
    await beat.stop();
    expect(app.sent.map((s) => s.options.headers?.taskq_beat_slot)).toEqual([
      '2025-01-01T00:00:05.000000+00:00',
      '2025-01-01T00:00:10.000000+00:00',
      '2025-01-01T00:00:15.000000+00:00',
    ]);
  });
});

describe('a restart with the file store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'taskq-beat-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function runOnce(file: string, now: string) {
    const app = heartbeatApp();
    const beat = new Beat(app, { clock: new FakeClock(at(now)), store: new FileScheduleStore(file), schedule: { hb: { task: 'monitor.heartbeat', schedule: every('1m'), args: ['x'] } } });
    const { sent } = await beat.tick();
    await beat.stop();
    return sent.map((s) => iso(s.slot));
  }

  it('does not run a tick again that ran before the restart', async () => {
    const file = path.join(dir, 'taskq-beat-schedule.json');
    expect(await runOnce(file, '2025-01-01T00:00:30Z')).toEqual([]);
    expect(await runOnce(file, '2025-01-01T00:01:10Z')).toEqual(['2025-01-01T00:01:00Z']);
    expect(await runOnce(file, '2025-01-01T00:01:50Z')).toEqual([]);
  });

  it('does not skip a tick that came due while it was down (it runs once)', async () => {
    const file = path.join(dir, 'taskq-beat-schedule.json');
    await runOnce(file, '2025-01-01T00:00:30Z');
    expect(await runOnce(file, '2025-01-01T00:05:30Z')).toEqual(['2025-01-01T00:05:00Z']);
  });
});
