/** `taskq dashboard`: serve the web dashboard of @taskq/dashboard (Flower's job), installed separately. */
import { ConfigError } from '@taskq/core';
import { appOrEnvApp } from '../app-from-flags.js';
import { intFlag, listFlag, parseFlags, printedHelp, secondsFlag, stringFlag } from '../parse-flags.js';
import { UsageError } from '../usage.js';

const OPTIONS = {
  app: { type: 'string', short: 'A' },
  address: { type: 'string' },
  port: { type: 'string', short: 'p' },
  'basic-auth': { type: 'string' },
  'read-only': { type: 'boolean' },
  'allowed-hosts': { type: 'string' },
  queues: { type: 'string', short: 'Q' },
  'poll-interval': { type: 'string' },
} as const;

type DashboardModule = typeof import('@taskq/dashboard');

/**
 * Load @taskq/dashboard, an optional peer of the CLI: users who never run the
 * dashboard do not install it. `importer` is replaceable for tests.
 */
export async function loadDashboard(importer: () => Promise<DashboardModule> = () => import('@taskq/dashboard')): Promise<DashboardModule> {
  try {
    return await importer();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('@taskq/dashboard')) {
      throw new ConfigError('taskq dashboard needs the @taskq/dashboard package: install @taskq/dashboard next to @taskq/cli (npm install @taskq/dashboard)', { cause: error });
    }
    throw error;
  }
}

/** Run `taskq dashboard` until SIGINT/SIGTERM. */
export async function dashboardCommand(argv: string[]): Promise<number> {
  const flags = parseFlags('dashboard', argv, OPTIONS, 0);
  if (printedHelp('dashboard', flags)) return 0;
  const port = intFlag('dashboard', flags, 'port', 0, 65_535) ?? 5555;
  const basicAuth = stringFlag(flags, 'basic-auth') ?? process.env.TASKQ_DASHBOARD_BASIC_AUTH;
  if (basicAuth !== undefined && !/^[^:]+:.+$/.test(basicAuth)) throw new UsageError('--basic-auth must be user:password', 'dashboard');
  const pollInterval = secondsFlag('dashboard', flags, 'poll-interval');
  const { startDashboard } = await loadDashboard();
  const app = await appOrEnvApp(stringFlag(flags, 'app'));
  try {
    const dashboard = await startDashboard({
      app,
      port,
      address: stringFlag(flags, 'address') ?? '127.0.0.1',
      readOnly: flags.values['read-only'] === true,
      ...allowedHosts(flags),
      queues: listFlag('dashboard', flags, 'queues') ?? [],
      ...(basicAuth !== undefined ? { basicAuth } : {}),
      ...(pollInterval !== undefined ? { pollIntervalMs: pollInterval * 1000 } : {}),
    });
    const notes = [flags.values['read-only'] ? 'read-only' : '', basicAuth !== undefined ? 'basic auth' : ''].filter(Boolean).join(', ');
    process.stderr.write(`-> taskq dashboard on ${dashboard.url}${notes ? ` (${notes})` : ''}, watching ${app.describe().broker} (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      const keepAlive = setInterval(() => {}, 2 ** 30);
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        clearInterval(keepAlive);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await dashboard.close();
    return 0;
  } finally {
    await app.close();
  }
}

/** `--allowed-hosts h1,h2[:port]`: Host header names accepted besides the bound address and localhost (DNS-rebinding guard). */
function allowedHosts(flags: Parameters<typeof stringFlag>[0]): { allowedHosts?: string[] } {
  const list = listFlag('dashboard', flags, 'allowed-hosts');
  return list ? { allowedHosts: list } : {};
}
