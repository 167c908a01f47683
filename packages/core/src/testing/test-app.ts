import { randomUUID } from 'node:crypto';
import { App, type AppOptions } from '../app.js';
import { createLogger } from '../logger.js';

/**
 * An app for users' unit tests: its own isolated memory:// broker and backend
 * (or eager mode with `{ taskAlwaysEager: true }`), silent logs, and no
 * environment variables read.
 */
export function createTestApp(options: AppOptions = {}): App {
  const vhost = `memory://test-${randomUUID()}`;
  return new App({ brokerUrl: vhost, resultBackend: vhost, logger: createLogger('silent'), env: {}, ...options });
}
