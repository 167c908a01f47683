import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../src/config.js';
import { resolveConfig } from '../src/config.js';
import { TransportNotInstalledError, UnknownTransportError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { MemoryBroker } from '../src/memory/memory-broker.js';
import { MemoryResultBackend } from '../src/memory/memory-result-backend.js';
import { createTestApp } from '../src/testing/test-app.js';
import { createBrokerFromUrl, createResultBackendFromUrl, registerTransport, schemeOf } from '../src/transport-registry.js';

const context = { config: resolveConfig({}, {}) as AppConfig, log: createLogger('silent'), oid: 'test-oid' };

const execFileAsync = promisify(execFile);

describe('choosing a transport by URL scheme', () => {
  it('builds the embedded broker and backend for memory://', async () => {
    expect(await createBrokerFromUrl('memory://reg-test', context)).toBeInstanceOf(MemoryBroker);
    expect(await createResultBackendFromUrl('memory://reg-test', context)).toBeInstanceOf(MemoryResultBackend);
  });

  it('reads the scheme case-insensitively', () => {
    expect(schemeOf('REDIS://localhost')).toBe('redis');
    expect(schemeOf('redis+socket:///tmp/redis.sock')).toBe('redis+socket');
  });

  it('rejects an unknown scheme, suggesting the near name', async () => {
    const attempt = createBrokerFromUrl('redsi://localhost:6379/0', context);
    await expect(attempt).rejects.toThrow(UnknownTransportError);
    await expect(createBrokerFromUrl('redsi://localhost:6379/0', context)).rejects.toThrow(/did you mean redis:\/\//);
  });

  it('lists the known schemes when nothing is near', async () => {
    await expect(createBrokerFromUrl('zzzzzzz://x', context)).rejects.toThrow(/Known schemes: memory:\/\/, redis:\/\//);
  });

  // Run in a scratch directory outside this workspace, where (as in a user's app
  // that did not install it) @taskq/broker-amqp cannot be resolved.
  async function outsideWorkspace(code: string): Promise<Record<string, unknown>> {
    const dir = await mkdtemp(join(tmpdir(), 'taskq-registry-'));
    const script = join(dir, 'check.mjs');
    const core = pathToFileURL(join(import.meta.dirname, '../dist/index.js')).href;
    await writeFile(script, `import * as core from ${JSON.stringify(core)};\n${code}\n`);
    try {
      // vitest's NODE_PATH would let the child resolve the workspace's packages.
      const { NODE_PATH: _, ...env } = process.env;
      const { stdout } = await execFileAsync(process.execPath, [script], { cwd: dir, env, timeout: 10_000 });
      return JSON.parse(stdout) as Record<string, unknown>;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('names the package to install, and the command, when amqp:// is not installed', async () => {
    const error = await outsideWorkspace(`
      const ctx = { config: core.resolveConfig({}, {}), log: core.createLogger('silent'), oid: 'x' };
      const e = await core.createBrokerFromUrl('amqp://guest:guest@localhost:5672//', ctx).catch((e) => e);
      console.log(JSON.stringify({ name: e.name, code: e.code, packageName: e.packageName, message: e.message }));`);
    expect(error).toMatchObject({ name: 'TransportNotInstalledError', code: 'TASKQ_ERR_TRANSPORT_NOT_INSTALLED', packageName: '@taskq/broker-amqp' });
    expect(error.message).toContain('pnpm add @taskq/broker-amqp');
  });

  it('fails the app’s first broker use the same way', async () => {
    const error = await outsideWorkspace(`
      const app = core.createApp({ brokerUrl: 'amqp://localhost//', resultBackend: 'memory://', logger: core.createLogger('silent'), env: {} });
      const e = await app.getBroker().catch((e) => e);
      console.log(JSON.stringify({ name: e.name }));`);
    expect(error).toEqual({ name: 'TransportNotInstalledError' });
  });

  it('uses a transport registered with registerTransport', async () => {
    const scheme = `fake${randomUUID().slice(0, 6)}`;
    const urls: string[] = [];
    registerTransport(scheme, {
      createBroker: (url) => {
        urls.push(url);
        return new MemoryBroker(`memory://${scheme}`);
      },
      createResultBackend: (url) => {
        urls.push(url);
        return new MemoryResultBackend(`memory://${scheme}`);
      },
    });
    const app = createTestApp({ brokerUrl: `${scheme}://host/1`, resultBackend: `${scheme}://host/2` });
    expect((await app.getBroker()).transport).toBe('memory');
    expect((await app.getBackend()).backend).toBe('memory');
    expect(urls).toEqual([`${scheme}://host/1`, `${scheme}://host/2`]);
  });

  it('says so when a scheme has no broker, only a result backend', async () => {
    const scheme = `backendonly${randomUUID().slice(0, 6)}`;
    registerTransport(scheme, { createResultBackend: () => new MemoryResultBackend('memory://x') });
    await expect(createBrokerFromUrl(`${scheme}://`, context)).rejects.toThrow(/is a result backend, not a broker/);
  });
});
