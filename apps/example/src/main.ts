/**
 * `pnpm example`: a worker and a producer in one process on the embedded
 * memory:// broker (or TASKQ_BROKER_URL), printing each task's result.
 */
import { createCliLogger } from '@taskq/cli';
import { LOG_LEVELS, type LogLevel } from '@taskq/core';
import { Worker } from '@taskq/worker';
import { app, tasks } from './app.js';
import { runBeatDemo } from './beat-demo.js';
import { QUEUES } from './contracts.js';
import { runProducer } from './producer.js';
import { HEARTBEAT_SECONDS } from './schedule.js';
import { runWorkflows } from './workflows.js';

/** How long the demo lets beat send the periodic tasks. */
const BEAT_DEMO_SECONDS = 3.5;

// Logs at warn unless TASKQ_LOG_LEVEL asks for more, so the results stand out;
// pretty at a terminal, JSON otherwise (the CLI's choice, as `taskq worker` makes it).
const requested = process.env.TASKQ_LOG_LEVEL ?? 'warn';
const level: LogLevel = (LOG_LEVELS as readonly string[]).includes(requested) ? (requested as LogLevel) : 'warn';
app.log.level = level;

const { broker, backend } = app.describe();
console.log(`taskq example: broker ${broker}, result backend ${backend}`);

const worker = new Worker(app, {
  queues: Object.values(QUEUES),
  concurrency: 4,
  // Always pretty: this is a demo read by people. Two tasks fail on purpose and their errors are
  // printed with the results, so their log lines leave out the error objects.
  logger: createCliLogger(level, { pretty: true, hideErrors: process.env.TASKQ_LOG_LEVEL === undefined }).child({ component: 'worker' }),
});
await worker.start();
let failed = false;
try {
  const outcomes = await runProducer(app);
  const unexpected = outcomes.filter((o) => !o.asExpected);
  failed = unexpected.length > 0;
  console.log(
    failed
      ? `not as expected: ${unexpected.map((o) => o.label).join('; ')}`
      : `done: ${outcomes.filter((o) => o.ok).length} succeeded, ${outcomes.filter((o) => !o.ok).length} failed as intended`,
  );
  const workflows = await runWorkflows(app, tasks);
  console.log(`✓ chord(fetch sales, costs, forecast → merge) → ${JSON.stringify(workflows.report)}`);
  console.log(`✓ chain(render email → send draft) → ${JSON.stringify(workflows.email)}`);
  console.log(`beat: running the periodic tasks for ${BEAT_DEMO_SECONDS} s (cleanup-heartbeat every ${HEARTBEAT_SECONDS} s; cleanup-nightly at 03:00)`);
  const beatLogger = createCliLogger(level, { pretty: true }).child({ component: 'beat' });
  const ticks = await runBeatDemo(app, BEAT_DEMO_SECONDS, beatLogger);
  if (ticks === 0) failed = true;
  console.log(`beat: ${ticks} periodic task${ticks === 1 ? '' : 's'} sent and run`);
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  await worker.stop();
  await app.close();
}
process.exitCode = failed ? 1 : 0;
