/** `taskq result`: print a task's stored state and result or error. */
import { errorFromMeta, type ResultMeta, stringifyJson } from '@taskq/core';
import { appOrEnvApp } from '../app-from-flags.js';
import { parseFlags, printedHelp, secondsFlag, stringFlag } from '../parse-flags.js';
import { UsageError } from '../usage.js';

const OPTIONS = {
  app: { type: 'string', short: 'A' },
  wait: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Run `taskq result`; resolves with the exit code (1 when the task failed or was revoked). */
export async function resultCommand(argv: string[]): Promise<number> {
  const flags = parseFlags('result', argv, OPTIONS, 1);
  if (printedHelp('result', flags)) return 0;
  const id = flags.positionals[0];
  if (id === undefined) throw new UsageError('which task? e.g. taskq result 2f8c5a1e-…', 'result');
  const wait = secondsFlag('result', flags, 'wait');
  const app = await appOrEnvApp(stringFlag(flags, 'app'));
  try {
    const backend = await app.getBackend();
    const meta: ResultMeta | undefined = wait === undefined ? await backend.get(id) : await backend.wait(id, { timeoutMs: wait * 1000 });
    if (flags.values.json) {
      process.stdout.write(`${stringifyJson(meta ?? { status: 'PENDING', result: null, task_id: id }, 'the result meta')}\n`);
    } else {
      process.stdout.write(formatMeta(id, meta));
    }
    return meta?.status === 'FAILURE' || meta?.status === 'REVOKED' ? 1 : 0;
  } finally {
    await app.close();
  }
}

/** Human-readable lines: state, then result or error (and the remote traceback, when stored). */
function formatMeta(id: string, meta: ResultMeta | undefined): string {
  if (!meta) return `${id}: PENDING (no result stored yet: unknown id, not run yet, or its result expired)\n`;
  const lines = [`${id}: ${meta.status}`];
  if (meta.status === 'SUCCESS') lines.push(stringifyJson(meta.result, 'the result'));
  else if (meta.status === 'FAILURE' || meta.status === 'REVOKED') {
    lines.push(errorFromMeta(meta).message);
    if (meta.traceback) lines.push(meta.traceback);
  }
  return `${lines.join('\n')}\n`;
}
