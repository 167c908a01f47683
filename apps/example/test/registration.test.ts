import { TaskAlreadyRegisteredError } from '@taskq/core';
import { createTestApp } from '@taskq/core/testing';
import { describe, expect, it } from 'vitest';
import { app } from '../src/app.js';
import { QUEUES } from '../src/contracts.js';
import { registerTasks } from '../src/tasks/index.js';

const EXAMPLE_TASKS = [
  'cleanup.purge',
  'email.render',
  'email.send',
  'email.send_draft',
  'reports.fetch_part',
  'reports.generate',
  'reports.merge',
];

describe('task registration', () => {
  it('the app module registers every task, so `taskq worker` sees them', () => {
    expect(app.tasks.names()).toEqual(EXAMPLE_TASKS);
  });

  it('registers the same tasks on a fresh test app', () => {
    const testApp = createTestApp();
    const tasks = registerTasks(testApp);
    expect(testApp.tasks.names()).toEqual(EXAMPLE_TASKS);
    expect(tasks.sendEmail.taskName).toBe('email.send');
  });

  it('refuses to register the tasks twice on one app', () => {
    const testApp = createTestApp();
    registerTasks(testApp);
    expect(() => registerTasks(testApp)).toThrow(TaskAlreadyRegisteredError);
  });

  it('routes each task to the queue its contract names', () => {
    const tasks = registerTasks(createTestApp());
    expect(tasks.sendEmail.options.queue).toBe(QUEUES.email);
    expect(tasks.generateReport.options.queue).toBe(QUEUES.reports);
    expect(tasks.purgeExpired.options.queue).toBe(QUEUES.default);
  });
});
