/** Shared setup of the integration tests: the real Redis at REDIS_URL, isolated by db index and key prefix. */
import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '@taskq/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { createRedisBroker, type RedisBroker, type RedisBrokerOptions } from '../../src/index.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const silent: Logger = createLogger('silent');

/** The URL of database `db` on the test Redis. */
export function urlFor(db: number): string {
  return `${REDIS_URL.replace(/\/\d*$/, '')}/${db}`;
}

/** A fresh key prefix, so a file's keys never meet another file's (or a real app's). */
export function freshPrefix(label: string): string {
  return `taskq-test:${label}:${randomUUID().slice(0, 8)}:`;
}

/** A raw client on `db`; throws loudly when Redis is not there (these tests never skip). */
export async function rawClient(db: number): Promise<Redis> {
  const client = new Redis(urlFor(db), { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new Error(`these tests need Redis at ${urlFor(db)} (set REDIS_URL): ${(error as Error).message}`);
  }
  return client;
}

/** Delete every key under a prefix (never FLUSHDB: the db may be shared). */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** A broker on `db` with `prefix` as global_keyprefix; more transport options may be given. */
export function brokerFor(db: number, prefix: string, options: Partial<RedisBrokerOptions> = {}): RedisBroker {
  return createRedisBroker({
    url: urlFor(db),
    log: silent,
    ...options,
    transportOptions: { global_keyprefix: prefix, ...options.transportOptions },
  });
}

/**
 * For the whole test file: a raw client and a connected broker on `db` under
 * `prefix`, handed to `use` before the tests; afterwards the broker is closed
 * and every key under the prefix deleted.
 */
/** A raw client on `db` for the file (handed to `use` before its tests), and every key under `prefix` deleted after them. */
export function useRawClient(db: number, prefix: string, use: (raw: Redis) => void): void {
  let raw: Redis | undefined;
  beforeAll(async () => {
    raw = await rawClient(db);
    use(raw);
  });
  afterAll(async () => {
    if (raw) {
      await deletePrefix(raw, prefix);
      raw.disconnect();
    }
  });
}

export function useBroker(db: number, prefix: string, use: (raw: Redis, broker: RedisBroker) => void, options: Partial<RedisBrokerOptions> = {}): void {
  let raw: Redis | undefined;
  let broker: RedisBroker | undefined;
  beforeAll(async () => {
    raw = await rawClient(db);
    broker = brokerFor(db, prefix, options);
    await broker.connect();
    use(raw, broker);
  });
  afterAll(async () => {
    await broker?.close();
    if (raw) {
      await deletePrefix(raw, prefix);
      raw.disconnect();
    }
  });
}
