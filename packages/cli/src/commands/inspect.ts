/** `taskq inspect <method>`: ask workers what they are doing (Celery's `celery inspect`). */
import { appOrEnvApp } from '../app-from-flags.js';
import { listFlag, parseFlags, printedHelp, secondsFlag, stringFlag, subcommand } from '../parse-flags.js';
import { EXIT_UNAVAILABLE, formatJson, formatNodeCount, formatReply } from '../remote-output.js';

const OPTIONS = {
  app: { type: 'string', short: 'A' },
  destination: { type: 'string', short: 'd' },
  timeout: { type: 'string', short: 't' },
  json: { type: 'boolean', short: 'j' },
} as const;

/** Inspect methods and how their positional arguments map to the request's arguments. */
export const INSPECT_METHODS: Readonly<Record<string, (args: string[]) => Record<string, unknown>>> = {
  ping: () => ({}),
  active: () => ({ safe: null }),
  scheduled: () => ({ safe: null }),
  reserved: () => ({ safe: null }),
  registered: (args) => ({ taskinfoitems: args }),
  stats: () => ({}),
  revoked: () => ({}),
  active_queues: () => ({}),
  conf: (args) => ({ with_defaults: args[0] === 'true' || args[0] === '1' }),
  report: () => ({}),
  query_task: (args) => ({ ids: args }),
};

/** Run `taskq inspect`; exit 69 when no worker answered within the timeout (as Celery). */
export async function inspectCommand(argv: string[]): Promise<number> {
  const flags = parseFlags('inspect', argv, OPTIONS, 100);
  if (printedHelp('inspect', flags)) return 0;
  const { name: method, entry: toArgs, rest } = subcommand('inspect', INSPECT_METHODS, flags.positionals);
  return runRemote({
    command: 'inspect',
    method,
    args: toArgs(rest),
    app: stringFlag(flags, 'app'),
    destination: listFlag('inspect', flags, 'destination'),
    timeout: secondsFlag('inspect', flags, 'timeout') ?? 1,
    json: flags.values.json === true,
  });
}

export interface RemoteRun {
  command: 'inspect' | 'control';
  method: string;
  args: Record<string, unknown>;
  app: string | undefined;
  destination: string[] | undefined;
  timeout: number;
  json: boolean;
}

/** Broadcast, print each reply as it arrives (or all as JSON at the end), and the node count. */
export async function runRemote(run: RemoteRun): Promise<number> {
  const app = await appOrEnvApp(run.app);
  try {
    const replies = await app.control.broadcast(run.method, {
      arguments: run.args,
      reply: true,
      timeout: run.timeout,
      ...(run.destination ? { destination: run.destination } : {}),
      onReply: run.json ? undefined : (reply) => process.stdout.write(formatReply(reply)),
    });
    if (replies.length === 0) {
      process.stderr.write('Error: No nodes replied within time constraint\n');
      return EXIT_UNAVAILABLE;
    }
    process.stdout.write(run.json ? formatJson(replies) : formatNodeCount(replies.length));
    return 0;
  } finally {
    await app.close();
  }
}
