/**
 * Celery's Redis URL forms → ioredis options, plus any transport options
 * carried in the query string.
 *
 * ```text
 * redis://[[user]:password@]host[:port][/db][?option=value…]
 * rediss://…                              TLS (ssl_cert_reqs=none|CERT_NONE disables verification)
 * redis+socket:///path/to/redis.sock[?virtual_host=db]   also socket:// and unix://
 * sentinel://[:password@]host:26379[;sentinel://host2:26379…][/db]   master name: transport option master_name
 * ```
 */
import { ConfigError, redactUrl } from '@taskq/core';
import type { RedisOptions } from 'ioredis';

export interface ParsedRedisUrl {
  /** ioredis connection options (host/port/path/sentinels, auth, db, tls). */
  redis: RedisOptions;
  /** Database number, for logs and fanout channel names. */
  db: number;
  /** Transport options found in the query string, values as strings. */
  query: Record<string, string>;
}

/** Parse a Redis URL in any of the forms Celery accepts. Throws ConfigError with the accepted grammar. */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  const scheme = url.slice(0, Math.max(0, url.indexOf('://'))).toLowerCase();
  switch (scheme) {
    case 'redis':
    case 'rediss':
      return parseTcp(url, scheme === 'rediss');
    case 'redis+socket':
    case 'socket':
    case 'unix':
      return parseSocket(url);
    case 'sentinel':
      return parseSentinel(url);
    default:
      throw new ConfigError(
        `${JSON.stringify(redactUrl(url))} is not a Redis URL; use redis://[user:password@]host:port/db, rediss://…, redis+socket:///path.sock or sentinel://host:26379`,
      );
  }
}

function queryOf(u: URL): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [k, v] of u.searchParams) q[k] = v;
  return q;
}

function dbOf(text: string | undefined, url: string): number {
  if (text === undefined || text === '') return 0;
  const db = Number(text);
  if (!Number.isInteger(db) || db < 0) throw new ConfigError(`${redactUrl(url)}: database ${JSON.stringify(text)} is not a number; the path of a Redis URL is the db index, e.g. /0`);
  return db;
}

function auth(u: URL): Pick<RedisOptions, 'username' | 'password'> {
  const out: Pick<RedisOptions, 'username' | 'password'> = {};
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  return out;
}

function parseTcp(url: string, tls: boolean): ParsedRedisUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch (error) {
    throw new ConfigError(`${JSON.stringify(redactUrl(url))} is not a valid URL; use redis://[user:password@]host:port/db`, { cause: error });
  }
  const query = queryOf(u);
  const db = dbOf(u.pathname.replace(/^\/+/, '').replace(/\/+$/, '') || query.virtual_host, url);
  const redis: RedisOptions = { host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: u.port ? Number(u.port) : 6379, db, ...auth(u) };
  if (tls) {
    const reqs = (query.ssl_cert_reqs ?? '').toLowerCase();
    redis.tls = reqs === 'none' || reqs === 'cert_none' ? { rejectUnauthorized: false } : {};
  }
  return { redis, db, query };
}

function parseSocket(url: string): ParsedRedisUrl {
  const rest = url.slice(url.indexOf('://') + 3);
  const [pathAndAuth = '', search = ''] = rest.split('?', 2);
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) query[k] = v;
  let path = pathAndAuth;
  const redis: RedisOptions = {};
  const at = path.lastIndexOf('@');
  if (at >= 0) {
    const [user = '', password = ''] = path.slice(0, at).split(':', 2);
    if (user) redis.username = decodeURIComponent(user);
    if (password) redis.password = decodeURIComponent(password);
    path = path.slice(at + 1);
  }
  if (!path.startsWith('/')) throw new ConfigError(`${redactUrl(url)}: a socket URL needs an absolute path, e.g. redis+socket:///var/run/redis/redis.sock?virtual_host=0`);
  const db = dbOf(query.virtual_host ?? query.db, url);
  return { redis: { ...redis, path, db }, db, query };
}

function parseSentinel(url: string): ParsedRedisUrl {
  // Celery joins several sentinels with ';' (each with its own scheme).
  const parts = url.split(';').map((p) => p.trim()).filter(Boolean);
  const sentinels: Array<{ host: string; port: number }> = [];
  let redis: RedisOptions = {};
  let db = 0;
  let query: Record<string, string> = {};
  for (const part of parts) {
    const parsed = parseTcp(part.replace(/^sentinel:\/\//i, 'redis://'), false);
    sentinels.push({ host: parsed.redis.host!, port: part.match(/:(\d+)(?:[/?]|$)/) ? parsed.redis.port! : 26379 });
    if (parsed.redis.password !== undefined) redis = { ...redis, ...auth(new URL(part.replace(/^sentinel:\/\//i, 'redis://'))) };
    if (parsed.db !== 0) db = parsed.db;
    query = { ...query, ...parsed.query };
  }
  if (sentinels.length === 0) throw new ConfigError(`${redactUrl(url)}: no sentinel listed; use sentinel://host:26379;sentinel://host2:26379`);
  return { redis: { ...redis, sentinels, db }, db, query };
}
