/** The app for commands that only send or read results (`call`, `result`). */
import { type App, createApp } from '@taskq/core';
import { loadApp } from './load-app.js';

/**
 * The user's app when one is named (--app or package.json), else an app made
 * from the environment: sending by name and reading results need only the
 * broker and backend URLs, not the task implementations.
 */
export async function appOrEnvApp(appFlag: string | undefined): Promise<App> {
  return (await loadApp(appFlag)) ?? createApp({ name: 'taskq-cli' });
}
