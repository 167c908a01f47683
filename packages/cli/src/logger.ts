/**
 * The CLI's logger. Libraries log through whatever pino logger they are
 * given; the CLI is the one place that chooses where logs go: pino-pretty for
 * a person at a terminal, JSON lines (for log collectors) otherwise.
 */
import type { Logger, LogLevel } from '@taskq/core';
import { destination, pino } from 'pino';
import { build as prettyStream } from 'pino-pretty';

/** Same redaction as core's default logger: task arguments and results may hold personal data. */
const REDACT = { paths: ['task.args', 'task.kwargs', 'task.result'], censor: '[redacted]' };

/**
 * Fields a person does not need under each pretty line: the worker's
 * messages already carry the task name, id and runtime, and the banner's
 * fields are the banner's text.
 */
const PRETTY_IGNORE = ['pid', 'hostname', 'component', 'banner', 'taskId', 'taskName', 'runtime', 'excType'];

export interface CliLoggerOptions {
  /** Pretty output (default: when stdout is a TTY). */
  pretty?: boolean;
  /** In pretty output, leave out error objects and stacks (for demos whose failures are intended). */
  hideErrors?: boolean;
}

/** A pino logger at `level`: pretty when stdout is a TTY, JSON otherwise. */
export function createCliLogger(level: LogLevel, options: CliLoggerOptions = {}): Logger {
  const pinoOptions = { name: 'taskq', level, redact: REDACT };
  // JSON lines go out asynchronously (a worker logs two per task, as Celery does, and a
  // synchronous write each cost more than a small task); pino flushes them at exit.
  if (!(options.pretty ?? process.stdout.isTTY === true)) return pino(pinoOptions, destination({ fd: 1, sync: false }));
  const ignore = options.hideErrors ? [...PRETTY_IGNORE, 'err'] : PRETTY_IGNORE;
  // In-process and synchronous (not a transport thread): log lines stay in order with what the
  // process prints itself, and none are lost when it exits.
  return pino(
    pinoOptions,
    prettyStream({ colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: ignore.join(','), sync: true }),
  );
}
