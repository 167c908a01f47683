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

interface PendingReady {
  promise: Promise<void>;
  lastError: Error | undefined;
}

/** One shared "until ready" per client, so many waiters do not pile listeners on it. */
const pendingReady = new WeakMap<Redis, PendingReady>();

function untilReady(client: Redis): PendingReady {
  let pending = pendingReady.get(client);
  if (pending) return pending;
  const state: PendingReady = { promise: Promise.resolve(), lastError: undefined };
  const onError = (error: Error): void => {
    state.lastError = error;
  };
  state.promise = new Promise<void>((resolve) => {
    client.once('ready', () => {
      client.off('error', onError);
      pendingReady.delete(client);
      resolve();
    });
  });
  client.on('error', onError);
  pending = state;
  pendingReady.set(client, pending);
  return pending;
}

/**
 * Resolve once the client is ready, starting it if needed. With a finite
 * `timeoutMs`, reject with BrokerConnectionError when it is not ready by then
 * (ioredis keeps reconnecting in the background).
 */
export function waitReady(client: Redis, timeoutMs: number, what: string): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  const pending = untilReady(client);
  if (client.status === 'wait' || client.status === 'end') client.connect().catch(() => {});
  if (!Number.isFinite(timeoutMs)) return pending.promise;
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    pending.promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const last = pending.lastError;
        reject(
          new BrokerConnectionError(
            `Redis not reachable after ${timeoutMs} ms (${what})${last ? `: ${last.message}` : ''} — is Redis running at the configured URL? Raise brokerConnectionTimeout to wait longer.`,
            { cause: last },
          ),
        );
      }, timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
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

/** ioredis refused to write the command (connection not writable): it was certainly not sent. */
function notSent(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("Stream isn't writeable");
}

/**
 * Run `op` against a ready client within `timeoutMs` (waiting for a reconnect
 * counts), mapping errors. A command ioredis refused to write because the
 * connection was just dropping is retried after the reconnect (it was not
 * sent, so this cannot duplicate); anything else is not retried here.
 */
export async function withDeadline<T>(client: Redis, timeoutMs: number, what: string, op: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await waitReady(client, Math.max(1, deadline - Date.now()), what);
    } catch (error) {
      throw toBrokerError(error, what);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        op(),
        new Promise<never>((_, reject) => {
          if (!Number.isFinite(timeoutMs)) return;
          timer = setTimeout(
            () => reject(new BrokerConnectionError(`Redis did not answer ${what} within ${timeoutMs} ms — the connection was lost; it may still complete after a reconnect`)),
            Math.max(1, deadline - Date.now()),
          );
        }),
      ]);
    } catch (error) {
      if (notSent(error) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      throw toBrokerError(error, what);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}
