/** `taskq control <method> …`: tell workers to do something (Celery's `celery control`). */
import { listFlag, parseFlags, printedHelp, secondsFlag, stringFlag, subcommand } from '../parse-flags.js';
import { UsageError } from '../usage.js';
import { runRemote } from './inspect.js';

const OPTIONS = {
  app: { type: 'string', short: 'A' },
  destination: { type: 'string', short: 'd' },
  timeout: { type: 'string', short: 't' },
  json: { type: 'boolean', short: 'j' },
} as const;

function need(args: string[], n: number, what: string): void {
  if (args.length < n) throw new UsageError(`missing ${what}`, 'control');
}

function count(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`N must be a whole number >= 1, got ${JSON.stringify(text)}`, 'control');
  return n;
}

function seconds(text: string | undefined, what: string): number | null {
  if (text === undefined || text === 'None' || text === 'null') return null;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${what} must be a number of seconds, got ${JSON.stringify(text)}`, 'control');
  return n;
}

/** Control methods: their request name and arguments, from the positional arguments (Celery's order). */
export const CONTROL_METHODS: Readonly<Record<string, (args: string[]) => { method: string; args: Record<string, unknown> }>> = {
  revoke: (a) => {
    need(a, 1, 'task id(s): taskq control revoke <id> [<id>…]');
    return { method: 'revoke', args: { task_id: a, terminate: false, signal: 'SIGTERM' } };
  },
  terminate: (a) => {
    need(a, 2, 'signal and task id(s): taskq control terminate SIGKILL <id> [<id>…]');
    return { method: 'revoke', args: { task_id: a.slice(1), terminate: true, signal: a[0] } };
  },
  rate_limit: (a) => {
    need(a, 2, 'task name and rate: taskq control rate_limit tasks.add 10/m');
    return { method: 'rate_limit', args: { task_name: a[0], rate_limit: a[1] } };
  },
  time_limit: (a) => {
    need(a, 2, 'task name and soft limit: taskq control time_limit tasks.add 60 [120]');
    return { method: 'time_limit', args: { task_name: a[0], soft: seconds(a[1], 'soft'), hard: seconds(a[2], 'hard') } };
  },
  shutdown: () => ({ method: 'shutdown', args: { msg: 'shutdown from taskq control' } }),
  pool_grow: (a) => ({ method: 'pool_grow', args: { n: count(a[0]) } }),
  pool_shrink: (a) => ({ method: 'pool_shrink', args: { n: count(a[0]) } }),
  add_consumer: (a) => {
    need(a, 1, 'queue: taskq control add_consumer <queue>');
    return { method: 'add_consumer', args: { queue: a[0], exchange: a[1] ?? null, exchange_type: a[2] ?? null, routing_key: a[3] ?? null, options: {} } };
  },
  cancel_consumer: (a) => {
    need(a, 1, 'queue: taskq control cancel_consumer <queue>');
    return { method: 'cancel_consumer', args: { queue: a[0] } };
  },
  enable_events: () => ({ method: 'enable_events', args: {} }),
  disable_events: () => ({ method: 'disable_events', args: {} }),
};

/** Run `taskq control`; exit 69 when no worker answered (shutdown answers nothing: it exits 0 once sent). */
export async function controlCommand(argv: string[]): Promise<number> {
  const flags = parseFlags('control', argv, OPTIONS, 100);
  if (printedHelp('control', flags)) return 0;
  const { entry: build, rest } = subcommand('control', CONTROL_METHODS, flags.positionals);
  const { method, args } = build(rest);
  const destination = listFlag('control', flags, 'destination');
  if (method === 'shutdown') {
    const { appOrEnvApp } = await import('../app-from-flags.js');
    const app = await appOrEnvApp(stringFlag(flags, 'app'));
    try {
      await app.control.shutdown(destination ? { destination } : {});
    } finally {
      await app.close();
    }
    return 0;
  }
  return runRemote({
    command: 'control',
    method,
    args,
    app: stringFlag(flags, 'app'),
    destination,
    timeout: secondsFlag('control', flags, 'timeout') ?? 1,
    json: flags.values.json === true,
  });
}
