/** The app for commands that only send or read results (`call`, `result`). */
import { type App, createApp } from '@taskq/core';
import { loadApp } from './load-app.js';

/**
 * The user's app when one is named (--app or package.json), else an app made
 * from the environment: sending by name and reading results need only the
 * broker and backend URLs, not the task implementations.
 */
export async function appOrEnvApp(appFlag: string | undefined): Promise<App> {
  const app = (await loadApp(appFlag)) ?? createApp({ name: 'taskq-cli' });
  // The app logs to stdout, where these commands print ids and results for scripts:
  // keep it to warnings unless TASKQ_LOG_LEVEL asks for more.
  if (process.env.TASKQ_LOG_LEVEL === undefined) app.log.level = 'warn';
  return app;
}
