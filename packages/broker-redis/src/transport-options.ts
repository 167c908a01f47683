/**
 * Celery's `broker_transport_options` for Redis (snake_case, as Python users
 * write them) → the transport's settings. Values may come from
 * `config.brokerTransportOptions` or the URL query string (the query wins).
 */
import { ConfigError } from '@taskq/core';
import { DEFAULT_PRIORITY_STEPS, DEFAULT_UNACKED_MUTEX_EXPIRE, DEFAULT_VISIBILITY_TIMEOUT } from './kombu-layout.js';

/** Transport options of the Redis broker, with Celery's names (all optional). */
export interface RedisTransportOptions {
  /** Seconds before an unacknowledged delivery of a dead consumer goes back to its queue (default 3600). */
  visibility_timeout?: number | string;
  /** Priority bands (default [0, 3, 6, 9]); producers and workers must agree. */
  priority_steps?: number[] | string;
  /** Prefix for every key and channel (default ''); both sides must agree. */
  global_keyprefix?: string;
  /** Sentinel master name (required with sentinel://). */
  master_name?: string;
  /** Seconds the restore lock is held at most (default 15; kombu's is 300). */
  unacked_mutex_expire?: number | string;
  /** Seconds between idle polls of the queues (default 0.1); taskq producers also wake consumers at once. */
  polling_interval?: number | string;
  /** Extra ioredis options for the sentinels themselves (e.g. `{ password }`). */
  sentinel_kwargs?: Record<string, unknown>;
  /** Broadcast channel prefix: true (default) `/<db>.`, false none, or a string; both sides must agree. */
  fanout_prefix?: boolean | string;
  /** Append `/<routing key>` to broadcast channels (default true), so subscribers filter by pattern. */
  fanout_patterns?: boolean | string;
  /**
   * Leave out task headers whose value is null (and `timelimit` `[null, null]`) from the
   * envelopes this producer writes (default true). Celery reads every header with `.get()`,
   * so its workers treat both forms alike; the envelope is ~110 bytes (a seventh) shorter,
   * which every consumer parses and Redis stores twice (queue and unacked). `false` writes
   * all 16 headers exactly as Celery does.
   */
  compact_headers?: boolean | string;
  [other: string]: unknown;
}

/** Resolved settings, in taskq units. */
export interface ResolvedTransportOptions {
  visibilityTimeoutMs: number;
  prioritySteps: number[];
  keyPrefix: string;
  masterName: string | undefined;
  unackedMutexExpireMs: number;
  pollingIntervalMs: number;
  sentinelOptions: Record<string, unknown> | undefined;
  /** kombu's `fanout_prefix`: true → `/<db>.`, false → none, a string → itself. */
  fanoutPrefix: boolean | string;
  fanoutPatterns: boolean;
  compactHeaders: boolean;
}

/** A transport option that is a boolean, or (from a URL query) its text. */
function boolish(value: unknown): boolean | undefined {
  if (value === true || value === false) return value;
  if (typeof value !== 'string') return undefined;
  const l = value.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(l)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(l)) return false;
  return undefined;
}

/** A boolean transport option; a value that is not one is a ConfigError (not silently the default). */
function flag(name: string, value: unknown): boolean {
  const b = boolish(value);
  if (b === undefined) throw new ConfigError(`transport option ${name}=${JSON.stringify(value)} must be true or false`);
  return b;
}

function seconds(name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`transport option ${name}=${JSON.stringify(value)} must be a positive number of seconds`);
  return n;
}

function steps(value: unknown): number[] {
  if (value === undefined || value === null || value === '') return [...DEFAULT_PRIORITY_STEPS];
  const list = Array.isArray(value) ? value : String(value).replace(/[[\]\s]/g, '').split(',');
  const nums = list.map(Number);
  if (nums.length === 0 || !nums.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new ConfigError(`transport option priority_steps=${JSON.stringify(value)} must be a list of non-negative integers, e.g. [0, 3, 6, 9]`);
  }
  return [...new Set(nums)].sort((a, b) => a - b);
}

/** Merge config options and URL query, validate, and convert to milliseconds. */
export function resolveTransportOptions(fromConfig: Record<string, unknown> = {}, fromQuery: Record<string, string> = {}): ResolvedTransportOptions {
  const o: RedisTransportOptions = { ...fromConfig, ...fromQuery };
  return {
    visibilityTimeoutMs: seconds('visibility_timeout', o.visibility_timeout, DEFAULT_VISIBILITY_TIMEOUT) * 1000,
    prioritySteps: steps(o.priority_steps),
    keyPrefix: o.global_keyprefix === undefined || o.global_keyprefix === null ? '' : String(o.global_keyprefix),
    masterName: o.master_name === undefined ? undefined : String(o.master_name),
    unackedMutexExpireMs: seconds('unacked_mutex_expire', o.unacked_mutex_expire, DEFAULT_UNACKED_MUTEX_EXPIRE) * 1000,
    pollingIntervalMs: seconds('polling_interval', o.polling_interval, 0.1) * 1000,
    sentinelOptions: o.sentinel_kwargs && typeof o.sentinel_kwargs === 'object' ? o.sentinel_kwargs : undefined,
    fanoutPrefix: o.fanout_prefix === undefined || o.fanout_prefix === null ? true : (boolish(o.fanout_prefix) ?? String(o.fanout_prefix)),
    fanoutPatterns: o.fanout_patterns === undefined || o.fanout_patterns === null ? true : (boolish(o.fanout_patterns) ?? true),
    compactHeaders: o.compact_headers === undefined || o.compact_headers === null ? true : flag('compact_headers', o.compact_headers),
  };
}
