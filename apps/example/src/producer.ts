/**
 * A producer: sends each of the example's tasks and prints its result. It
 * imports only `@taskq/core` and the contracts, as a separate service that
 * does not have the task implementations would.
 *
 * Run on its own against a real broker, with a worker elsewhere:
 *   TASKQ_BROKER_URL=redis://localhost:6379/0 pnpm worker     # terminal 1
 *   TASKQ_BROKER_URL=redis://localhost:6379/0 pnpm producer   # terminal 2
 */
import { pathToFileURL } from 'node:url';
import { type App, type AsyncResult, createApp, TaskFailedError } from '@taskq/core';
import { generateReport, purgeExpired, sendEmail } from './contracts.js';

/** Seconds to wait for each result before giving up. */
const RESULT_TIMEOUT_S = 15;

export interface ProducerOutcome {
  label: string;
  ok: boolean;
  /** Whether the task ended as the example intends (two of them are meant to fail). */
  asExpected: boolean;
  /** The task's return value, or its error as `Type: message`. */
  value: unknown;
}

interface Send {
  label: string;
  pending: Promise<AsyncResult<unknown>>;
  expect: 'success' | 'failure';
}

async function outcome(label: string, result: AsyncResult<unknown>, expect: Send['expect'], print: (line: string) => void): Promise<ProducerOutcome> {
  try {
    const value = await result.get({ timeout: RESULT_TIMEOUT_S * 1000 });
    print(`✓ ${label} → ${JSON.stringify(value)}`);
    return { label, ok: true, asExpected: expect === 'success', value };
  } catch (error) {
    if (!(error instanceof TaskFailedError)) throw error;
    print(`✗ ${label} → ${error.excType}: ${error.excMessage.join(', ')}`);
    return { label, ok: false, asExpected: expect === 'failure', value: `${error.excType}: ${error.excMessage.join(', ')}` };
  }
}

/**
 * Send the example's tasks through `app` (default: an app from the
 * environment) and wait for each result. Resolves with one outcome per task.
 */
export async function runProducer(app: App = createApp({ name: 'example-producer' }), print: (line: string) => void = console.log): Promise<ProducerOutcome[]> {
  // All sends first, then the waits: the worker runs the tasks concurrently.
  const sends: Send[] = [
    { label: 'email.send (SMTP refuses the first attempt, then accepts)', pending: app.send(sendEmail, 'ada@example.com', 'Welcome', 'Hello Ada!'), expect: 'success' },
    { label: 'reports.generate (300 rows)', pending: app.send(generateReport, 'monthly-sales', 300), expect: 'success' },
    {
      label: 'reports.generate (too slow for a 0.2 s soft time limit)',
      pending: app.sendWith(generateReport, ['yearly-sales', 100_000], { softTimeLimit: 0.2 }),
      expect: 'failure',
    },
    { label: 'reports.generate (bad input)', pending: app.send(generateReport, 'broken', -1), expect: 'failure' },
    { label: 'cleanup.purge (sessions older than 30 days)', pending: app.send(purgeExpired, 30), expect: 'success' },
  ];
  const results: AsyncResult<unknown>[] = [];
  for (const { label, pending } of sends) {
    const result = await pending;
    print(`→ ${label}: sent as ${result.id}`);
    results.push(result);
  }
  const outcomes: ProducerOutcome[] = [];
  for (const [i, { label, expect }] of sends.entries()) outcomes.push(await outcome(label, results[i]!, expect, print));
  return outcomes;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = createApp({ name: 'example-producer' });
  try {
    await runProducer(app);
  } finally {
    await app.close();
  }
}
