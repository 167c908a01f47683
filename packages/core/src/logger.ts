/** The default logger: pino, level from TASKQ_LOG_LEVEL (default info). Inject your own with `createApp({ logger })`. */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level?: string): Logger {
  return pino({
    name: 'taskq',
    level: level ?? process.env.TASKQ_LOG_LEVEL ?? 'info',
    redact: { paths: ['task.args', 'task.kwargs', 'task.result'], censor: '[redacted]' },
  });
}
