/** The startup banner, laid out like Celery's so its users find things where they expect. */
import os from 'node:os';

/** What the banner shows; also logged as structured fields. URLs must already be masked. */
export interface BannerInfo {
  hostname: string;
  version: string;
  app: string;
  /** Transport name, e.g. 'memory', 'redis'. */
  transport: string;
  /** Broker URL with the password masked. */
  broker: string;
  /** Result backend URL with the password masked. */
  backend: string;
  pool: string;
  concurrency: number;
  /** 0 = unlimited. */
  prefetch: number;
  queues: readonly string[];
  tasks: readonly string[];
  timeLimit: number | undefined;
  softTimeLimit: number | undefined;
  /** Task events on (`-E`). */
  taskEvents: boolean;
}

/** The banner text (several lines, no trailing newline). */
export function renderBanner(info: BannerInfo): string {
  const limits = [info.softTimeLimit ? `soft ${info.softTimeLimit}s` : '', info.timeLimit ? `hard ${info.timeLimit}s` : ''].filter(Boolean).join(', ') || 'none';
  const side = [
    `${os.type()}-${os.release()}-${process.arch} node ${process.version} ${new Date().toISOString()}`,
    '',
    '[config]',
    `.> app:         ${info.app}`,
    `.> transport:   ${info.broker}`,
    `.> results:     ${info.backend}`,
    `.> concurrency: ${info.concurrency} (${info.pool})`,
    `.> prefetch:    ${info.prefetch === 0 ? 'unlimited' : info.prefetch}`,
    `.> time limits: ${limits}`,
    `.> task events: ${info.taskEvents ? 'ON' : 'OFF (enable -E to monitor tasks in this worker)'}`,
    '',
    '[queues]',
  ];
  const art = ['--- ***** ----- ', '-- ******* ---- ', '- *** --- * --- ', '- ** ---------- ', '- ** ---------- ', '- ** ---------- ', '- ** ---------- ', '- ** ---------- ', '- *** --- * --- ', '-- ******* ---- ', '--- ***** ----- ', ' -------------- '];
  const lines = [` -------------- ${info.hostname} v${info.version}`];
  side.forEach((text, i) => {
    lines.push(`${art[i] ?? ' '.repeat(16)}${text}`.trimEnd());
  });
  for (const q of info.queues) lines.push(`                .> ${q}`);
  lines.push('', '[tasks]');
  if (info.tasks.length === 0) lines.push('  (none registered: the worker will fail every task it receives)');
  for (const t of info.tasks) lines.push(`  . ${t}`);
  return lines.join('\n');
}
