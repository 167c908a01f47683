import { Beat, loadPeriodicTasks } from '@taskq/beat';
import { createRecordingSender, FakeClock, MemoryScheduleStore } from '@taskq/beat/testing';
import { createTestApp } from '@taskq/core/testing';
import { describe, expect, it } from 'vitest';
import { app } from '../src/app.js';
import { addPeriodicTasks, HEARTBEAT_SECONDS, registerSchedule } from '../src/schedule.js';
import { registerTasks } from '../src/tasks/index.js';

describe('the example schedule', () => {
  it('adds the heartbeat purge in its setup hook (checked with a recording sender, no broker)', () => {
    const sender = createRecordingSender();
    addPeriodicTasks(registerTasks(createTestApp()))(sender);
    expect(sender.tasks).toHaveLength(1);
    expect(sender.tasks[0]).toMatchObject({ name: 'cleanup-heartbeat', task: 'cleanup.purge', args: [365], options: { expires: HEARTBEAT_SECONDS } });
    expect(sender.tasks[0]!.schedule.toString()).toBe(`every ${HEARTBEAT_SECONDS}s`);
  });

  it('declares the nightly purge and the heartbeat on the app that `taskq beat` loads', async () => {
    const tasks = await loadPeriodicTasks(app);
    expect(tasks.map((t) => [t.name, t.task, t.schedule.toString(), t.args])).toEqual([
      ['cleanup-nightly', 'cleanup.purge', 'crontab(0 3 * * *)', [30]],
      ['cleanup-heartbeat', 'cleanup.purge', `every ${HEARTBEAT_SECONDS}s`, [365]],
    ]);
  });

  it('sends the nightly purge at 03:00 UTC, once (fake clock)', async () => {
    const testApp = createTestApp();
    registerSchedule(testApp, registerTasks(testApp));
    const clock = new FakeClock(Date.UTC(2025, 0, 1, 2, 59, 59, 500));
    const beat = new Beat(testApp, { clock, store: new MemoryScheduleStore() });
    await beat.tick();
    clock.set(Date.UTC(2025, 0, 1, 3, 0, 0, 200));
    const { sent } = await beat.tick();
    expect(sent.map((s) => s.name).sort()).toEqual(['cleanup-heartbeat', 'cleanup-nightly']);
    clock.set(Date.UTC(2025, 0, 1, 3, 0, 0, 900));
    expect((await beat.tick()).sent).toEqual([]);
    await testApp.close();
  });
});
