/**
 * URL scheme → transport. `memory://` is built in; the others live in their
 * own packages, loaded with a dynamic `import()` the first time they are
 * needed, so an app installs only the transport it uses.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Broker } from './broker.js';
import type { AppConfig } from './config.js';
import { TransportNotInstalledError, UnknownTransportError } from './errors.js';
import type { Logger } from './logger.js';
import type { ResultBackend } from './result-backend.js';

export interface TransportContext {
  config: AppConfig;
  log: Logger;
  /** The app's oid: the `reply_to` on every message it sends, and the rpc:// reply queue it reads. */
  oid: string;
}

/** What a transport package exports (also what `registerTransport` takes). */
export interface TransportModule {
  createBroker?(url: string, context: TransportContext): Broker | Promise<Broker>;
  createResultBackend?(url: string, context: TransportContext): ResultBackend | Promise<ResultBackend>;
}

/** Schemes served by separately installed packages. */
export const TRANSPORT_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  redis: '@taskq/broker-redis',
  rediss: '@taskq/broker-redis',
  'redis+socket': '@taskq/broker-redis',
  sentinel: '@taskq/broker-redis',
  amqp: '@taskq/broker-amqp',
  amqps: '@taskq/broker-amqp',
  pyamqp: '@taskq/broker-amqp',
  rpc: '@taskq/broker-amqp',
});

const registered = new Map<string, TransportModule>();

/** Register a transport for a scheme (third-party transports, or to override a built-in one). */
export function registerTransport(scheme: string, module: TransportModule): void {
  registered.set(scheme.toLowerCase(), module);
}

export function schemeOf(url: string): string {
  const i = url.indexOf('://');
  return (i < 0 ? url : url.slice(0, i)).toLowerCase();
}

async function loadModule(scheme: string): Promise<TransportModule> {
  const own = registered.get(scheme);
  if (own) return own;
  const pkg = TRANSPORT_PACKAGES[scheme];
  if (!pkg) {
    const known = ['memory', ...Object.keys(TRANSPORT_PACKAGES), ...registered.keys()];
    const close = known.find((k) => editDistance(k, scheme) <= 2);
    throw new UnknownTransportError(
      `no such transport: ${scheme}://${close ? ` — did you mean ${close}://?` : ''} Known schemes: ${known.map((k) => `${k}://`).join(', ')}`,
    );
  }
  return importPackage(scheme, pkg);
}

/**
 * Import a transport package the way the app would see it. Under pnpm's
 * isolated node_modules a bare `import()` from core resolves from core's own
 * folder, so it falls back to resolving from the app (cwd and the main module).
 */
async function importPackage(scheme: string, pkg: string): Promise<TransportModule> {
  let firstError: unknown;
  try {
    return (await import(pkg)) as TransportModule;
  } catch (error) {
    if (!isModuleNotFound(error, pkg)) throw error;
    firstError = error;
  }
  const bases = [`${process.cwd()}/`];
  if (process.argv[1]) bases.push(process.argv[1]);
  for (const base of bases) {
    let resolved: string;
    try {
      resolved = createRequire(base).resolve(pkg);
    } catch {
      continue;
    }
    return (await import(pathToFileURL(resolved).href)) as TransportModule;
  }
  throw new TransportNotInstalledError(scheme, pkg, { cause: firstError });
}

function isModuleNotFound(error: unknown, pkg: string): boolean {
  const code = (error as { code?: string }).code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(pkg);
}

export async function createBrokerFromUrl(url: string, context: TransportContext): Promise<Broker> {
  const scheme = schemeOf(url);
  if (scheme === 'memory' && !registered.has('memory')) {
    const { createMemoryBroker } = await import('./memory/memory-broker.js');
    return createMemoryBroker(url);
  }
  const mod = await loadModule(scheme);
  if (!mod.createBroker) throw new UnknownTransportError(`${scheme}:// is a result backend, not a broker; use it as resultBackend`);
  return mod.createBroker(url, context);
}

export async function createResultBackendFromUrl(url: string, context: TransportContext): Promise<ResultBackend> {
  const scheme = schemeOf(url);
  if (scheme === 'memory' && !registered.has('memory')) {
    const { createMemoryResultBackend } = await import('./memory/memory-result-backend.js');
    return createMemoryResultBackend(url);
  }
  const mod = await loadModule(scheme);
  if (!mod.createResultBackend) throw new UnknownTransportError(`${scheme}:// has no result backend; use memory://, redis:// or rpc://`);
  return mod.createResultBackend(url, context);
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}
