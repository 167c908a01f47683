import { ConfigError } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { parseAmqpUrl, parseAmqpUrls } from '../../src/index.js';

describe('AMQP URLs (kombu grammar)', () => {
  it('reads user, password, host, port and "//" as the vhost "/"', () => {
    expect(parseAmqpUrl('amqp://guest:s%40cret@rabbit:5673//')).toMatchObject({
      protocol: 'amqp',
      hostname: 'rabbit',
      port: 5673,
      username: 'guest',
      password: 's@cret',
      vhost: '/',
      heartbeat: 60,
    });
  });

  it('takes a named vhost, and "/" when the path is empty', () => {
    expect(parseAmqpUrl('amqp://h/prod').vhost).toBe('prod');
    expect(parseAmqpUrl('amqp://h/%2Fprod').vhost).toBe('/prod');
    expect(parseAmqpUrl('amqp://h').vhost).toBe('/');
  });

  it('defaults to guest/guest on 5672, and 5671 for amqps', () => {
    expect(parseAmqpUrl('amqp://localhost')).toMatchObject({ username: 'guest', password: 'guest', port: 5672 });
    expect(parseAmqpUrl('amqps://localhost')).toMatchObject({ protocol: 'amqps', port: 5671 });
  });

  it('treats pyamqp:// as amqp://', () => {
    expect(parseAmqpUrl('pyamqp://h//').protocol).toBe('amqp');
  });

  it('reads heartbeat seconds from the query', () => {
    expect(parseAmqpUrl('amqp://h//?heartbeat=10').heartbeat).toBe(10);
    expect(() => parseAmqpUrl('amqp://h//?heartbeat=soon')).toThrow(ConfigError);
  });

  it('splits a ;-separated list into failover endpoints, in order', () => {
    expect(parseAmqpUrls('amqp://a:1//;amqp://b:2//').map((e) => `${e.hostname}:${e.port}`)).toEqual(['a:1', 'b:2']);
  });

  it('masks the password in the display URL', () => {
    expect(parseAmqpUrl('amqp://u:secret@h//').displayUrl).toBe('amqp://u:***@h//');
  });

  it('refuses other schemes with a message naming the right ones', () => {
    expect(() => parseAmqpUrl('redis://h')).toThrow(/amqp:\/\/, amqps:\/\/ or pyamqp:\/\//);
  });
});
