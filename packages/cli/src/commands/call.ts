/** `taskq call`: send a task by name; with --wait, print its result. */
import { type ApplyOptions, stringifyJson, TaskFailedError } from '@taskq/core';
import { appOrEnvApp } from '../app-from-flags.js';
import { intFlag, jsonFlag, parseFlags, printedHelp, secondsFlag, stringFlag } from '../parse-flags.js';
import { UsageError } from '../usage.js';

const OPTIONS = {
  app: { type: 'string', short: 'A' },
  args: { type: 'string' },
  kwargs: { type: 'string' },
  queue: { type: 'string', short: 'Q' },
  countdown: { type: 'string' },
  eta: { type: 'string' },
  expires: { type: 'string' },
  priority: { type: 'string' },
  wait: { type: 'string' },
} as const;

/** Run `taskq call`; resolves with the exit code (1 when the awaited task failed). */
export async function callCommand(argv: string[]): Promise<number> {
  const flags = parseFlags('call', argv, OPTIONS, 1);
  if (printedHelp('call', flags)) return 0;
  const name = flags.positionals[0];
  if (name === undefined) throw new UsageError('which task? e.g. taskq call email.send --args \'["a@example.com"]\'', 'call');
  const args = jsonFlag('call', flags, 'args', 'array') ?? [];
  const kwargs = jsonFlag('call', flags, 'kwargs', 'object') ?? {};
  const options: ApplyOptions = {};
  const queue = stringFlag(flags, 'queue');
  if (queue !== undefined) options.queue = queue;
  const countdown = secondsFlag('call', flags, 'countdown');
  if (countdown !== undefined) options.countdown = countdown;
  const eta = stringFlag(flags, 'eta');
  if (eta !== undefined) options.eta = eta;
  const expires = secondsFlag('call', flags, 'expires');
  if (expires !== undefined) options.expires = expires;
  const priority = intFlag('call', flags, 'priority', 0, 9);
  if (priority !== undefined) options.priority = priority;
  const wait = secondsFlag('call', flags, 'wait');

  const app = await appOrEnvApp(stringFlag(flags, 'app'));
  try {
    const result = await app.sendTask(name, args, kwargs, options);
    process.stdout.write(`${result.id}\n`);
    if (wait === undefined) return 0;
    try {
      const value = await result.get({ timeout: wait * 1000 });
      process.stdout.write(`${stringifyJson(value, 'the result')}\n`);
      return 0;
    } catch (error) {
      if (!(error instanceof TaskFailedError)) throw error;
      process.stderr.write(`task ${error.taskId} ${error.state}: ${error.message}\n`);
      return 1;
    }
  } finally {
    await app.close();
  }
}
