/** `@taskq/cli`: the `taskq` command (`bin/taskq.js` calls {@link main}) and its app loader. */
export { main, reportError, run } from './main.js';
export { createCliLogger } from './logger.js';
export type { CliLoggerOptions } from './logger.js';
export { importApp, isApp, loadApp, locateApp } from './load-app.js';
export type { AppLocation } from './load-app.js';
export { COMMANDS, EXIT_USAGE, UsageError, usage } from './usage.js';
export type { CommandName } from './usage.js';
