import { type App, ConfigError } from '@taskq/core';
import { createTestApp } from '@taskq/core/testing';
import { describe, expect, it } from 'vitest';
import { type CrontabSchedule, crontab, defineBeatSchedule, every, IntervalSchedule, loadPeriodicTasks, onBeatSetup, type PeriodicTaskSender } from '../src/index.js';
import { createRecordingSender } from '../src/testing.js';

function appWithTasks() {
  const app = createTestApp({ name: 'decl' });
  const heartbeat = app.task('monitor.heartbeat', (source: string) => source);
  app.task('cleanup.purge', (days: number) => days);
  return Object.assign(app, { heartbeat });
}

/** The app's setup function, as a user would write it next to the app. */
function setupPeriodicTasks(app: ReturnType<typeof appWithTasks>) {
  return (sender: PeriodicTaskSender): void => {
    sender.addPeriodicTask(15, app.heartbeat.s('beat'), { name: 'Test Task' });
    sender.addPeriodicTask(crontab({ minute: 0, hour: 3 }), app.signature('cleanup.purge', [30]), { options: { expires: 600 } });
  };
}

describe('a setup hook (Celery on_after_configure + add_periodic_task)', () => {
  it('registers its periodic tasks with a recording sender, no broker needed', () => {
    const app = appWithTasks();
    const sender = createRecordingSender(app);
    setupPeriodicTasks(app)(sender);

    expect(sender.tasks).toHaveLength(2);
    const [first, second] = sender.tasks;
    expect(first).toMatchObject({ name: 'Test Task', task: 'monitor.heartbeat', args: ['beat'], kwargs: {} });
    expect(first!.schedule).toBeInstanceOf(IntervalSchedule);
    expect(first!.schedule.toString()).toBe('every 15s');
    expect(second).toMatchObject({ task: 'cleanup.purge', args: [30], options: { expires: 600 } });
    expect((second!.schedule as CrontabSchedule).expression).toBe('0 3 * * *');
  });

  it("names an unnamed periodic task after its call, as Celery does", () => {
    const sender = createRecordingSender();
    sender.addPeriodicTask(every('1m'), { task: 'report.daily', args: ['eu', 2], kwargs: { dry: true } });
    expect(sender.tasks[0]!.name).toBe("report.daily('eu', 2, dry=True)");
  });

  it('is run by the beat when registered with onBeatSetup', async () => {
    const app = appWithTasks();
    onBeatSetup(app, setupPeriodicTasks(app));
    const tasks = await loadPeriodicTasks(app);
    expect(tasks.map((t) => [t.name, t.task, t.schedule.toString()])).toEqual([
      ['Test Task', 'monitor.heartbeat', 'every 15s'],
      ['cleanup.purge(30)', 'cleanup.purge', 'crontab(0 3 * * *)'],
    ]);
  });
});

describe('a beat schedule object (Celery beat_schedule)', () => {
  it('is declared on the app with defineBeatSchedule and loaded by the beat', async () => {
    const app = appWithTasks();
    defineBeatSchedule(app, {
      'cleanup-nightly': {
        task: 'cleanup.purge',
        schedule: crontab({ minute: 0, hour: 0 }),
        args: [30],
        options: { queue: 'maintenance', priority: 5, expires: 3600 },
      },
    });
    const [entry] = await loadPeriodicTasks(app);
    expect(entry).toMatchObject({ name: 'cleanup-nightly', task: 'cleanup.purge', args: [30], kwargs: {}, options: { queue: 'maintenance', priority: 5, expires: 3600 } });
  });

  it('takes a number of seconds or a duration string as an interval schedule', async () => {
    const app = appWithTasks();
    const tasks = await loadPeriodicTasks(app, {
      a: { task: 'monitor.heartbeat', schedule: 30 },
      b: { task: 'monitor.heartbeat', schedule: '5m' },
    });
    expect(tasks.map((t) => t.schedule.toString())).toEqual(['every 30s', 'every 300s']);
  });

  it('lets a later entry of the same name replace an earlier one', async () => {
    const app = appWithTasks();
    defineBeatSchedule(app, { beat: { task: 'monitor.heartbeat', schedule: 10 } });
    onBeatSetup(app, (sender) => sender.addPeriodicTask(20, app.heartbeat.s('hook'), { name: 'beat' }));
    const tasks = await loadPeriodicTasks(app);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.schedule.toString()).toBe('every 20s');
  });
});

describe('a bad schedule fails at load with a ConfigError naming the entry', () => {
  async function loadError(app: App, schedule: Parameters<typeof loadPeriodicTasks>[1]): Promise<ConfigError> {
    const error = await loadPeriodicTasks(app, schedule).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }

  it('for minute 61', async () => {
    const error = await loadError(appWithTasks(), { 'cleanup-nightly': { task: 'cleanup.purge', schedule: crontab({ minute: 61 }) } });
    expect(error.message).toMatch(/^beat schedule entry "cleanup-nightly": crontab minute 61/);
  });

  it('for a task the app does not register', async () => {
    const error = await loadError(appWithTasks(), { typo: { task: 'cleanup.purg', schedule: 60 } });
    expect(error.message).toMatch(/entry "typo": task "cleanup.purg" is not registered/);
  });

  it('for an interval of 0', async () => {
    const error = await loadError(appWithTasks(), { zero: { task: 'cleanup.purge', schedule: 0 } });
    expect(error.message).toMatch(/entry "zero": an interval must be more than 0 seconds/);
  });

  it('for a bad call option', async () => {
    const error = await loadError(appWithTasks(), { loud: { task: 'cleanup.purge', schedule: 60, options: { priority: 42 } } });
    expect(error.message).toMatch(/entry "loud": .*priority/);
  });

  it('but accepts any task name when the app registers no tasks (a producer-only beat)', async () => {
    const tasks = await loadPeriodicTasks(createTestApp(), { py: { task: 'pyapp.add', schedule: 5, args: [1, 2] } });
    expect(tasks[0]!.task).toBe('pyapp.add');
  });
});
