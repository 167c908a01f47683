/**
 * The `taskq` command line: a table of commands, each imported only when
 * run, and the one top-level error handler that turns errors into exit codes.
 *
 * Exit codes: 0 success; 1 a task failed or a runtime error; 2 a usage or
 * configuration error (bad flag, bad value, app module not found).
 */
import { readFileSync } from 'node:fs';
import { isTaskqError } from '@taskq/core';
import { type CommandName, EXIT_USAGE, isCommand, UsageError, usage } from './usage.js';

type Command = (argv: string[]) => Promise<number>;

const COMMAND_TABLE: Record<CommandName, () => Promise<Command>> = {
  worker: async () => (await import('./commands/worker.js')).workerCommand,
  beat: async () => (await import('./commands/beat.js')).beatCommand,
  call: async () => (await import('./commands/call.js')).callCommand,
  result: async () => (await import('./commands/result.js')).resultCommand,
  inspect: async () => (await import('./commands/inspect.js')).inspectCommand,
  control: async () => (await import('./commands/control.js')).controlCommand,
  events: async () => (await import('./commands/events.js')).eventsCommand,
  purge: async () => (await import('./commands/purge.js')).purgeCommand,
  dashboard: async () => (await import('./commands/dashboard.js')).dashboardCommand,
};

/** Error codes that mean "fix how you called it" rather than "it failed": exit 2. */
const USAGE_CODES = new Set([
  'TASKQ_ERR_USAGE',
  'TASKQ_ERR_CONFIG',
  'TASKQ_ERR_TASK_OPTIONS',
  'TASKQ_ERR_TRANSPORT_UNKNOWN',
  'TASKQ_ERR_TRANSPORT_NOT_INSTALLED',
]);

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Run one command line (without `node` and the script path) and return its exit code. */
export async function run(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(`${usage()}\n`);
    return EXIT_USAGE;
  }
  if (first === '-h' || first === '--help' || first === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (first === '-V' || first === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (!isCommand(first)) {
    throw new UsageError(first.startsWith('-') ? `unknown option ${JSON.stringify(first)}` : `unknown command ${JSON.stringify(first)}`);
  }
  const command = await COMMAND_TABLE[first]();
  return command(rest);
}

/** Print an error the way its kind deserves, and return the exit code. */
export function reportError(error: unknown): number {
  if (error instanceof UsageError) {
    // Like click (Celery's CLI): the synopsis, the problem, and where to read more.
    const synopsis = usage(error.command).split('\n', 1)[0];
    const help = error.command ? `taskq ${error.command} --help` : 'taskq --help';
    process.stderr.write(`${synopsis}\nRun '${help}' for the options.\n\ntaskq: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (isTaskqError(error)) {
    process.stderr.write(`taskq: ${error.code}: ${error.message}\n`);
    return USAGE_CODES.has(error.code) ? EXIT_USAGE : 1;
  }
  process.stderr.write(`taskq: unexpected error\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

/** The entry point `bin/taskq.js` calls: runs the command and sets `process.exitCode`. */
export async function main(argv: string[]): Promise<void> {
  // Output piped into a program that stopped reading (`taskq inspect stats | head`) is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
  let code: number;
  try {
    code = await run(argv);
  } catch (error) {
    code = reportError(error);
  }
  process.exitCode = code;
}
