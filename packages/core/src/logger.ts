/** The default logger: pino, level from TASKQ_LOG_LEVEL (default info). Inject your own with `createApp({ logger })`. */
import { type DestinationStream, destination, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let stdout: DestinationStream | undefined;

/**
 * One asynchronous stdout destination for every default logger of the
 * process: a worker logs two lines per task (as Celery does), and a
 * synchronous write per line cost more than the task itself at thousands of
 * tasks a second. pino flushes it synchronously when the process exits
 * (`process.exit` and the end of the event loop included); only a SIGKILL
 * can lose the last lines. Shared so lines from several loggers stay in order.
 */
function stdoutDestination(): DestinationStream {
  stdout ??= destination({ dest: 1, sync: false });
  return stdout;
}

export function createLogger(level?: string): Logger {
  return pino(
    {
      name: 'taskq',
      level: level ?? process.env.TASKQ_LOG_LEVEL ?? 'info',
      redact: { paths: ['task.args', 'task.kwargs', 'task.result'], censor: '[redacted]' },
    },
    stdoutDestination(),
  );
}
