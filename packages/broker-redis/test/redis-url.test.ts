/** URL forms Celery accepts for Redis, and the transport options they carry. */
import { ConfigError } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { createBroker, kombu, parseRedisUrl } from '../src/index.js';
import { resolveTransportOptions } from '../src/transport-options.js';

describe('parseRedisUrl', () => {
  it('reads host, port, db and credentials from redis://', () => {
    const { redis, db } = parseRedisUrl('redis://user:p%40ss@example.com:6380/3');
    expect(redis).toMatchObject({ host: 'example.com', port: 6380, db: 3, username: 'user', password: 'p@ss' });
    expect(db).toBe(3);
  });

  it('defaults to localhost:6379 db 0, and takes a password without a user', () => {
    expect(parseRedisUrl('redis://').redis).toMatchObject({ host: '127.0.0.1', port: 6379, db: 0 });
    expect(parseRedisUrl('redis://:secret@h/1').redis).toMatchObject({ host: 'h', password: 'secret', db: 1 });
    expect(parseRedisUrl('redis://:secret@h/1').redis.username).toBeUndefined();
  });

  it('turns on TLS for rediss://, without verification for ssl_cert_reqs=none', () => {
    expect(parseRedisUrl('rediss://h:6380/0').redis.tls).toEqual({});
    expect(parseRedisUrl('rediss://h:6380/0?ssl_cert_reqs=CERT_NONE').redis.tls).toEqual({ rejectUnauthorized: false });
  });

  it('reads a unix socket path and virtual_host from redis+socket://', () => {
    expect(parseRedisUrl('redis+socket:///var/run/redis.sock?virtual_host=2').redis).toMatchObject({ path: '/var/run/redis.sock', db: 2 });
    expect(parseRedisUrl('unix:///tmp/r.sock').redis).toMatchObject({ path: '/tmp/r.sock', db: 0 });
  });

  it('lists every sentinel of sentinel://a;sentinel://b', () => {
    const { redis } = parseRedisUrl('sentinel://:pw@s1:26379;sentinel://s2:26380;sentinel://s3');
    expect(redis.sentinels).toEqual([
      { host: 's1', port: 26379 },
      { host: 's2', port: 26380 },
      { host: 's3', port: 26379 },
    ]);
    expect(redis.password).toBe('pw');
  });

  it('keeps query options as transport options', () => {
    expect(parseRedisUrl('redis://h/0?visibility_timeout=60&global_keyprefix=app:').query).toEqual({ visibility_timeout: '60', global_keyprefix: 'app:' });
  });

  it('rejects a bad db index and a foreign scheme with ConfigError', () => {
    expect(() => parseRedisUrl('redis://h/abc')).toThrow(ConfigError);
    expect(() => parseRedisUrl('amqp://h')).toThrow(ConfigError);
  });
});

describe('transport options', () => {
  it("has kombu's defaults", () => {
    expect(resolveTransportOptions()).toMatchObject({ visibilityTimeoutMs: 3_600_000, prioritySteps: [0, 3, 6, 9], keyPrefix: '', unackedMutexExpireMs: 15_000 });
  });

  it('lets the URL query override brokerTransportOptions, and parses priority_steps lists', () => {
    const o = resolveTransportOptions({ visibility_timeout: 10, priority_steps: [0, 5] }, { visibility_timeout: '20' });
    expect(o.visibilityTimeoutMs).toBe(20_000);
    expect(o.prioritySteps).toEqual([0, 5]);
    expect(resolveTransportOptions({}, { priority_steps: '[0,2,4]' }).prioritySteps).toEqual([0, 2, 4]);
  });

  it('rejects a non-positive visibility_timeout', () => {
    expect(() => resolveTransportOptions({ visibility_timeout: 0 })).toThrow(/visibility_timeout/);
  });

  it('puts custom priority steps into the band key names', () => {
    const layout = new kombu.KombuLayout('p:', [0, 5]);
    expect(layout.queueKeyFor('q', 4)).toBe('p:q');
    expect(layout.queueKeyFor('q', 7)).toBe('p:q\x06\x165');
  });

  it('needs master_name for sentinel://', () => {
    const ctx = { config: { brokerTransportOptions: {}, brokerConnectionTimeout: 100 }, log: undefined } as never;
    expect(() => createBroker('sentinel://s1:26379', ctx)).toThrow(/master_name/);
  });
});
