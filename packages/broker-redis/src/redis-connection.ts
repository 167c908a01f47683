/**
 * ioredis clients for the transport and result backend, waiting for a
 * connection with a deadline, and the mapping of ioredis errors onto core's
 * error classes (kombu's `connection_errors` / `channel_errors` split).
 */
import { BrokerChannelError, BrokerConnectionError, isTaskqError, type Logger, type TaskqError } from '@taskq/core';
import { Redis, type RedisOptions } from 'ioredis';

/** A Redis client that logs its connection errors instead of printing them, once per distinct message. */
export function createClient(base: RedisOptions, extra: RedisOptions, log: Logger, role: string): Redis {
  const client = new Redis({ ...base, lazyConnect: true, ...extra });
  let last = '';
  client.on('error', (error: Error) => {
    if (error.message === last) log.debug({ err: error, role }, 'redis connection error (repeated)');
    else log.warn({ err: error, role }, `redis connection error (${role}); reconnecting`);
    last = error.message;
  });
  client.on('ready', () => {
    if (last !== '') log.info({ role }, `redis reconnected (${role})`);
    last = '';
  });
  return client;
}

/**
 * Resolve once the client is ready, starting it if needed. With a finite
 * `timeoutMs`, reject with BrokerConnectionError when it is not ready by then
 * (ioredis keeps reconnecting in the background).
 */
export function waitReady(client: Redis, timeoutMs: number, what: string): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'wait' || client.status === 'end') client.connect().catch(() => {});
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let lastError: Error | undefined;
    const onError = (error: Error): void => {
      lastError = error;
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
    };
    client.on('ready', onReady);
    client.on('error', onError);
    if (Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        cleanup();
        reject(
          new BrokerConnectionError(
            `Redis not reachable after ${timeoutMs} ms (${what})${lastError ? `: ${lastError.message}` : ''} — is Redis running at the configured URL? Raise brokerConnectionTimeout to wait longer.`,
            { cause: lastError },
          ),
        );
      }, timeoutMs);
    }
  });
}

/** Server replies that mean "try again later / elsewhere", not "this request is wrong". */
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|NOAUTH|WRONGPASS)/;

/**
 * An ioredis failure as a taskq error: connection-level problems (refused,
 * reset, closed, timeouts, a replica or a loading server) become
 * BrokerConnectionError (retryable); replies refusing the command
 * (WRONGTYPE, OOM, script errors) become BrokerChannelError.
 */
export function toBrokerError(error: unknown, what: string): TaskqError {
  if (isTaskqError(error)) return error;
  const e = error instanceof Error ? error : new Error(String(error));
  if (e.name === 'ReplyError' && !TRANSIENT_REPLY.test(e.message)) {
    return new BrokerChannelError(`Redis refused ${what}: ${e.message}`, { cause: e });
  }
  const hint = /NOAUTH|WRONGPASS/.test(e.message) ? ' — check the user and password in the URL' : ' — check that Redis is reachable';
  return new BrokerConnectionError(`Redis connection failed during ${what}: ${e.message}${hint}`, { cause: e });
}

/** Run `op` against a ready client within `timeoutMs` (waiting for a reconnect counts), mapping errors. */
export async function withDeadline<T>(client: Redis, timeoutMs: number, what: string, op: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    await waitReady(client, timeoutMs, what);
  } catch (error) {
    throw toBrokerError(error, what);
  }
  const left = Math.max(1, timeoutMs - (Date.now() - started));
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      op(),
      new Promise<never>((_, reject) => {
        if (!Number.isFinite(left)) return;
        timer = setTimeout(() => reject(new BrokerConnectionError(`Redis did not answer ${what} within ${timeoutMs} ms — the connection was lost; it may still complete after a reconnect`)), left);
      }),
    ]);
  } catch (error) {
    throw toBrokerError(error, what);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
