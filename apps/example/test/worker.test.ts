import { createTestApp } from '@taskq/core/testing';
import { Worker } from '@taskq/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { QUEUES } from '../src/contracts.js';
import { runProducer } from '../src/producer.js';
import { registerTasks } from '../src/tasks/index.js';

describe('end to end on the memory:// broker', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop();
  });

  it('a worker runs what the producer sends; each task ends as the example intends', async () => {
    const app = createTestApp();
    registerTasks(app);
    worker = new Worker(app, { queues: Object.values(QUEUES), concurrency: 4 });
    await worker.start();
    const lines: string[] = [];
    const outcomes = await runProducer(app, (line) => lines.push(line));
    expect(outcomes.map((o) => [o.label.split(' ')[0], o.ok])).toEqual([
      ['email.send', true],
      ['reports.generate', true],
      ['reports.generate', false],
      ['reports.generate', false],
      ['cleanup.purge', true],
    ]);
    expect(outcomes.every((o) => o.asExpected)).toBe(true);
    expect(lines.filter((l) => l.startsWith('✓') || l.startsWith('✗'))).toHaveLength(5);
  });

  it('the email task reaches the worker twice: refused, then retried and accepted', async () => {
    const app = createTestApp();
    const { sendEmail } = registerTasks(app);
    worker = new Worker(app, { queues: [QUEUES.email] });
    await worker.start();
    const receipt = await (await sendEmail.delay('grace@example.com', 'Hi', 'Hello')).get({ timeout: 10_000 });
    expect(receipt.attempts).toBe(2);
  });
});
