/** The Host check against DNS rebinding: which Host headers a dashboard answers, by how it is bound. */
import { ConfigError } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { createHostCheck, parseAllowedHosts } from '../src/host-check.js';

describe('bound to loopback (the default)', () => {
  const check = createHostCheck({ boundAddress: '127.0.0.1', port: 5555 });

  it('answers the bound address and the loopback names on its port', () => {
    for (const host of ['127.0.0.1:5555', 'localhost:5555', 'LocalHost:5555', 'localhost.:5555', '[::1]:5555']) expect(check.allows(host), host).toBe(true);
  });

  it('refuses a rebound name, even on the right port', () => {
    expect(check.allows('evil.example:5555')).toBe(false);
    expect(check.allows('127.0.0.1.evil.example:5555')).toBe(false);
  });

  it('refuses the loopback names on another port (a missing port means 80)', () => {
    expect(check.allows('localhost:8080')).toBe(false);
    expect(check.allows('localhost')).toBe(false);
  });

  it('refuses a missing or malformed Host', () => {
    for (const host of [undefined, '', 'localhost:5555/x', 'user@localhost:5555', '[evil]:5555', 'localhost:99999']) expect(check.allows(host), String(host)).toBe(false);
  });

  it('is not an any-Host check', () => {
    expect(check.anyHost).toBe(false);
  });
});

describe('bound to IPv6 loopback', () => {
  it('answers the bracketed address on its port', () => {
    const check = createHostCheck({ boundAddress: '::1', port: 80 });
    expect(check.allows('[::1]')).toBe(true);
    expect(check.allows('[::1]:80')).toBe(true);
    expect(check.allows('evil.example')).toBe(false);
  });
});

describe('bound to a configured host name', () => {
  it('answers that name as well as the address it resolved to', () => {
    const check = createHostCheck({ boundAddress: '10.0.0.5', configuredAddress: 'box.lan', port: 5555 });
    expect(check.allows('box.lan:5555')).toBe(true);
    expect(check.allows('10.0.0.5:5555')).toBe(true);
    expect(check.allows('other.lan:5555')).toBe(false);
  });
});

describe('an allow-list', () => {
  const allowedHosts = parseAllowedHosts(['dash.example.com', 'ops.example.com:8443']);

  it('answers a listed name on any port, or on the listed port only', () => {
    const check = createHostCheck({ boundAddress: '127.0.0.1', port: 5555, allowedHosts });
    expect(check.allows('dash.example.com')).toBe(true);
    expect(check.allows('DASH.example.com:443')).toBe(true);
    expect(check.allows('ops.example.com:8443')).toBe(true);
    expect(check.allows('ops.example.com')).toBe(false);
  });

  it('still answers localhost on the port', () => {
    expect(createHostCheck({ boundAddress: '127.0.0.1', port: 5555, allowedHosts }).allows('localhost:5555')).toBe(true);
  });

  it('rejects an entry that is not a host, saying what a good one looks like', () => {
    expect(() => parseAllowedHosts(['https://dash.example.com'])).toThrow(ConfigError);
    expect(() => parseAllowedHosts(['https://dash.example.com'])).toThrow(/dash\.example\.com:8080/);
  });
});

describe('bound to every interface', () => {
  it('answers any Host when there is no allow-list, and says so', () => {
    for (const boundAddress of ['0.0.0.0', '::']) {
      const check = createHostCheck({ boundAddress, port: 5555 });
      expect(check.anyHost, boundAddress).toBe(true);
      expect(check.allows('evil.example:5555'), boundAddress).toBe(true);
    }
  });

  it('with an allow-list, answers listed names, loopback and IP literals on its port, and refuses other names', () => {
    const check = createHostCheck({ boundAddress: '0.0.0.0', port: 5555, allowedHosts: parseAllowedHosts(['dash.example.com']) });
    expect(check.anyHost).toBe(false);
    for (const host of ['dash.example.com', 'localhost:5555', '192.168.1.20:5555', '[fe80::1]:5555']) expect(check.allows(host), host).toBe(true);
    for (const host of ['evil.example:5555', '192.168.1.20:80']) expect(check.allows(host), host).toBe(false);
  });
});
