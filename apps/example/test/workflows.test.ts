import { createTestApp } from '@taskq/core/testing';
import { Worker } from '@taskq/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { QUEUES } from '../src/contracts.js';
import { registerWorkflowTasks } from '../src/tasks/workflows.js';
import { runEmailChain, runReportPipeline, runWorkflows } from '../src/workflows.js';

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

describe('example workflows', () => {
  it('merges the report parts in section order (chord), eagerly', async () => {
    const tasks = registerWorkflowTasks(createTestApp({ taskAlwaysEager: true }));
    expect(await runReportPipeline(tasks, ['a', 'bb'])).toEqual({ sections: ['a', 'bb'], rows: 30 });
  });

  it('sends the rendered draft (chain), eagerly', async () => {
    const tasks = registerWorkflowTasks(createTestApp({ taskAlwaysEager: true }));
    expect(await runEmailChain(tasks, 'ada@example.test', 'invoice')).toMatchObject({ to: 'ada@example.test', subject: 'Your invoice' });
  });

  it('runs both on a worker', async () => {
    const app = createTestApp();
    const worker = new Worker(app, { queues: Object.values(QUEUES), concurrency: 4 });
    workers.push(worker);
    const tasks = registerWorkflowTasks(app);
    await worker.start();
    const { report, email } = await runWorkflows(app, tasks);
    expect(report.sections).toEqual(['sales', 'costs', 'forecast']);
    expect(email.subject).toBe('Your monthly report');
  });
});
