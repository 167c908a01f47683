/**
 * The CLI's logger. Libraries log through whatever pino logger they are
 * given; the CLI is the one place that chooses where logs go: pino-pretty for
 * a person at a terminal, JSON lines (for log collectors) otherwise.
 */
import type { Logger, LogLevel } from '@taskq/core';
import { destination, pino, transport } from 'pino';

/** Same redaction as core's default logger: task arguments and results may hold personal data. */
const REDACT = { paths: ['task.args', 'task.kwargs', 'task.result'], censor: '[redacted]' };

/** A pino logger at `level`: pretty when stdout is a TTY, JSON otherwise. */
export function createCliLogger(level: LogLevel, pretty = process.stdout.isTTY === true): Logger {
  const options = { name: 'taskq', level, redact: REDACT };
  if (!pretty) return pino(options, destination({ fd: 1, sync: true }));
  return pino(
    options,
    transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } }),
  );
}
