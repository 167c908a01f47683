/** `taskq events`: print Celery events live, one line each (Celery's `celery events --dump`, compact). */
import { type CeleryEvent, EventReceiver, stringifyJson } from '@taskq/core';
import { appOrEnvApp } from '../app-from-flags.js';
import { parseFlags, printedHelp, secondsFlag, stringFlag } from '../parse-flags.js';
import { UsageError } from '../usage.js';

const OPTIONS = {
  app: { type: 'string', short: 'A' },
  json: { type: 'boolean', short: 'j' },
  'task-only': { type: 'boolean' },
  'worker-only': { type: 'boolean' },
  duration: { type: 'string' },
} as const;

/** Task names seen in task-received/task-sent, so later events of a task can show it (bounded). */
class NameCache {
  private readonly names = new Map<string, string>();
  remember(e: CeleryEvent): void {
    if (typeof e.uuid === 'string' && typeof e.name === 'string') {
      this.names.set(e.uuid, e.name);
      if (this.names.size > 10_000) this.names.delete(this.names.keys().next().value!);
    }
  }
  get(uuid: unknown): string | undefined {
    return typeof uuid === 'string' ? this.names.get(uuid) : undefined;
  }
}

/** One compact line: time, type, node, then what matters for the type. */
export function formatEvent(e: CeleryEvent, name?: string): string {
  const time = new Date(Number(e.timestamp) * 1000).toISOString();
  const parts = [time, e.type.padEnd(16), e.hostname];
  if (e.type.startsWith('worker-')) {
    parts.push(`active=${String(e.active)} processed=${String(e.processed)}`);
  } else {
    parts.push(`${name ?? (e.name as string | undefined) ?? '?'}[${String(e.uuid)}]`);
    switch (e.type) {
      case 'task-sent':
      case 'task-received':
        parts.push(`args=${String(e.args)} kwargs=${String(e.kwargs)}${e.eta ? ` eta=${String(e.eta)}` : ''}`);
        break;
      case 'task-succeeded':
        parts.push(`result=${String(e.result)} runtime=${Number(e.runtime).toFixed(4)}s`);
        break;
      case 'task-failed':
      case 'task-retried':
        parts.push(`exception=${String(e.exception)}`);
        break;
      case 'task-revoked':
        parts.push(`terminated=${String(e.terminated)} expired=${String(e.expired)}`);
        break;
      default:
        break;
    }
  }
  return `${parts.join(' ')}\n`;
}

/** Run `taskq events` until SIGINT/SIGTERM (or `--duration` seconds). */
export async function eventsCommand(argv: string[]): Promise<number> {
  const flags = parseFlags('events', argv, OPTIONS, 0);
  if (printedHelp('events', flags)) return 0;
  if (flags.values['task-only'] && flags.values['worker-only']) throw new UsageError('--task-only and --worker-only exclude each other', 'events');
  const duration = secondsFlag('events', flags, 'duration');
  const bindingKey = flags.values['task-only'] ? 'task.#' : flags.values['worker-only'] ? 'worker.#' : '#';
  const json = flags.values.json === true;
  const app = await appOrEnvApp(stringFlag(flags, 'app'));
  try {
    const broker = await app.getBroker();
    if (!broker.fanout) throw new UsageError(`the ${broker.transport} transport cannot broadcast events; use redis:// or amqp://`, 'events');
    const names = new NameCache();
    const receiver = new EventReceiver({
      fanout: broker.fanout(),
      bindingKey,
      onEvent: (e) => {
        names.remember(e);
        process.stdout.write(json ? `${stringifyJson(e, 'event')}\n` : formatEvent(e, names.get(e.uuid)));
      },
    });
    await receiver.start();
    if (!json) process.stderr.write(`-> taskq events: listening on ${app.describe().broker} (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        clearTimeout(timer);
        resolve();
      };
      const timer = duration === undefined ? setInterval(() => {}, 2 ** 30) : setTimeout(stop, duration * 1000);
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await receiver.close();
    return 0;
  } finally {
    await app.close();
  }
}
