/**
 * `@taskq/beat/redis`: the Redis schedule store and leader lock, for running
 * several beat processes (high availability). Needs `ioredis` (an optional
 * peer dependency): `pnpm add ioredis`. Importing `@taskq/beat` alone never
 * loads it.
 *
 * Keys, under `prefix` (default `taskq-beat`):
 * - `<prefix>:last` — a hash: entry name -> last run (epoch ms);
 * - `<prefix>:lock` — the leader lock: a random token per process, with a TTL;
 * - `<prefix>:tick:<entry>:<slot ms>` — one key per claimed tick, with an expiry.
 *
 * Why no tick is sent twice, even with two leaders at once (a paused leader
 * whose lock expired, a clock step): a tick is sent only after the claim
 * script returned 1, and the script — atomic in Redis — returns 1 only when
 * (a) this process's token is the lock's value (a fenced leader), (b) the
 * slot is later than the entry's recorded last run, and (c) `SET NX` on the
 * tick key succeeds; it records the slot as the last run in the same step.
 * Any one of the three refuses a second claim of the same tick.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '@taskq/core';
import { Redis } from 'ioredis';
import type { LeaderLock, ScheduleStore } from './store.js';

/** Default key prefix. */
export const DEFAULT_REDIS_PREFIX = 'taskq-beat';

/** Take the lock if free, renew it if ours. KEYS[1] lock; ARGV[1] token, ARGV[2] ttl ms. */
const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/** Delete the lock only if ours. KEYS[1] lock; ARGV[1] token. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Claim a tick. KEYS[1] last-run hash, KEYS[2] tick key, KEYS[3] lock key;
 * ARGV[1] entry, ARGV[2] slot ms, ARGV[3] tick-key ttl ms, ARGV[4] token,
 * ARGV[5] '1' when the lock must be held.
 */
const CLAIM = `
if ARGV[5] == '1' and redis.call('GET', KEYS[3]) ~= ARGV[4] then
  return 0
end
local last = redis.call('HGET', KEYS[1], ARGV[1])
if last ~= false and tonumber(last) >= tonumber(ARGV[2]) then
  return 0
end
if not redis.call('SET', KEYS[2], ARGV[4], 'NX', 'PX', ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

export interface RedisBeatOptions {
  /** Redis URL (`redis://host:6379/0`); usually the app's broker URL. Ignored when `client` is given. */
  url?: string;
  /** An ioredis client to use (not closed by the store). */
  client?: Redis;
  /** Key prefix (default `taskq-beat`); give each app (or test) its own. */
  prefix?: string;
  /** Seconds the leader lock lives without renewal (default 30). The leader renews it every third of that; a standby takes over within it. */
  lockTtl?: number;
  /** Seconds a tick key is kept (default 3600). The last-run record guards older ticks after that. */
  tickTtl?: number;
}

/** The leader lock: SET NX PX with a random token; renew and release compare the token first. */
export class RedisLeaderLock implements LeaderLock {
  readonly ttlMs: number;
  /** This process's token (the lock's value while it leads). */
  readonly token = randomUUID();

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    ttlSeconds: number,
  ) {
    this.ttlMs = Math.round(ttlSeconds * 1000);
  }

  async acquire(): Promise<boolean> {
    return (await this.redis.eval(ACQUIRE, 1, this.key, this.token, String(this.ttlMs))) === 1;
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.token);
  }
}

/** Last runs in a Redis hash; ticks claimed atomically (see the module comment). */
export class RedisScheduleStore implements ScheduleStore {
  readonly prefix: string;
  private readonly tickTtlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly ownsClient: boolean,
    prefix: string,
    tickTtlSeconds: number,
    /** When set, claims succeed only while this lock is held (fencing). */
    private readonly lock?: RedisLeaderLock,
  ) {
    this.prefix = prefix;
    this.tickTtlMs = Math.round(tickTtlSeconds * 1000);
  }

  private get lastKey(): string {
    return `${this.prefix}:last`;
  }

  async open(): Promise<void> {
    if (this.redis.status === 'wait') await this.redis.connect();
  }

  async lastRuns(names: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (names.length === 0) return out;
    const values = await this.redis.hmget(this.lastKey, ...names);
    names.forEach((n, i) => {
      const v = values[i];
      if (v !== null && v !== undefined) out.set(n, Number(v));
    });
    return out;
  }

  async initialize(name: string, at: number): Promise<number> {
    await this.redis.hsetnx(this.lastKey, name, String(at));
    return Number(await this.redis.hget(this.lastKey, name));
  }

  async claim(name: string, slot: number): Promise<boolean> {
    const token = this.lock?.token ?? randomUUID();
    const result = await this.redis.eval(
      CLAIM,
      3,
      this.lastKey,
      `${this.prefix}:tick:${name}:${slot}`,
      this.lock?.key ?? `${this.prefix}:lock`,
      name,
      String(slot),
      String(this.tickTtlMs),
      token,
      this.lock ? '1' : '0',
    );
    return result === 1;
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  describe(): string {
    return `redis:${this.prefix}`;
  }
}

/** A store and its lock, sharing one connection. Pass both to `new Beat(app, { store, lock })`. */
export interface RedisBeatState {
  store: RedisScheduleStore;
  lock: RedisLeaderLock;
}

/**
 * The Redis schedule store with its leader lock, for one or many beat
 * processes: `new Beat(app, createRedisBeatState({ url: app.conf.brokerUrl, prefix: 'shop-beat' }))`.
 */
export function createRedisBeatState(options: RedisBeatOptions): RedisBeatState {
  const { client, url, prefix = DEFAULT_REDIS_PREFIX, lockTtl = 30, tickTtl = 3600 } = options;
  if (!client && !url) throw new ConfigError('the Redis beat store needs a url (redis://host:6379/0) or a client');
  if (url && !client && !/^rediss?:\/\//i.test(url)) {
    throw new ConfigError(`the Redis beat store needs a redis:// or rediss:// URL, got ${JSON.stringify(url.split(':', 1)[0])}://…`);
  }
  if (!(lockTtl > 0)) throw new ConfigError(`lockTtl must be more than 0 seconds, got ${lockTtl}`);
  if (!(tickTtl > 0)) throw new ConfigError(`tickTtl must be more than 0 seconds, got ${tickTtl}`);
  const redis = client ?? new Redis(url!, { lazyConnect: true, maxRetriesPerRequest: 3 });
  const lock = new RedisLeaderLock(redis, `${prefix}:lock`, lockTtl);
  return { lock, store: new RedisScheduleStore(redis, !client, prefix, tickTtl, lock) };
}
