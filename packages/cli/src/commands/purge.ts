/** `taskq purge`: delete every waiting message of the app's queues (Celery's `celery purge`). */
import { createInterface } from 'node:readline/promises';
import { appOrEnvApp } from '../app-from-flags.js';
import { listFlag, parseFlags, printedHelp, stringFlag } from '../parse-flags.js';

const OPTIONS = {
  app: { type: 'string', short: 'A' },
  queues: { type: 'string', short: 'Q' },
  force: { type: 'boolean', short: 'f' },
} as const;

/** Ask on stdin; only y/yes (any case) confirms. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(question);
    return /^(y|yes)$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}

/** Run `taskq purge`; exits 1 when the user did not confirm. */
export async function purgeCommand(argv: string[]): Promise<number> {
  const flags = parseFlags('purge', argv, OPTIONS, 0);
  if (printedHelp('purge', flags)) return 0;
  const app = await appOrEnvApp(stringFlag(flags, 'app'));
  try {
    const queues = listFlag('purge', flags, 'queues') ?? [app.conf.defaultQueue];
    const label = `${queues.length === 1 ? 'queue' : 'queues'}: ${queues.join(', ')}`;
    if (!flags.values.force) {
      const ok = await confirm(`WARNING: This will remove all tasks from ${label}.\n         There is no undo for this operation!\n\n(to skip this prompt use the -f option)\nAre you sure you want to delete all tasks (y/N)? `);
      if (!ok) {
        process.stderr.write('Nothing purged.\n');
        return 1;
      }
    }
    const broker = await app.getBroker();
    let total = 0;
    for (const q of queues) total += await broker.purge(q);
    const known = `${queues.length} known task ${queues.length === 1 ? 'queue' : 'queues'}`;
    process.stdout.write(total === 0 ? `No messages purged from ${known}.\n` : `Purged ${total} ${total === 1 ? 'message' : 'messages'} from ${known}.\n`);
    return 0;
  } finally {
    await app.close();
  }
}
