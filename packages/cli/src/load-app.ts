/**
 * Find and import the user's app module. `--app` is a path relative to the
 * current directory (a `.ts` module loads through tsx, without a build step;
 * a built `.js` loads with plain `import()`) or a package specifier. Without
 * `--app`, the `"taskq": { "app": "..." }` field of ./package.json names it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, ConfigError } from '@taskq/core';

/** Extensions that need tsx to load. */
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

let tsxRegistered: Promise<void> | undefined;

/**
 * Register tsx's loader hooks for the whole process, once. A global hook (not
 * tsx's namespaced `tsImport`) keeps one copy of `@taskq/core` shared by the
 * CLI, the worker and the user's module, so `instanceof` and module state
 * (the memory:// broker) stay shared.
 */
function registerTsx(): Promise<void> {
  tsxRegistered ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return tsxRegistered;
}

/** Where the app module is and how the user named it (for messages). */
export interface AppLocation {
  /** Absolute file path, or a resolved package entry. */
  file: string;
  /** What the user wrote (`--app` value or the package.json field). */
  given: string;
  /** Where it came from, for error messages. */
  source: '--app' | 'package.json';
}

/**
 * The app module to load: from `--app`, else from ./package.json's
 * `taskq.app`, else undefined.
 */
export function locateApp(appFlag: string | undefined, cwd: string): AppLocation | undefined {
  if (appFlag !== undefined) return { file: resolveModule(appFlag, cwd, '--app'), given: appFlag, source: '--app' };
  const pkgFile = path.join(cwd, 'package.json');
  if (!existsSync(pkgFile)) return undefined;
  let pkg: unknown;
  try {
    pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${pkgFile} is not valid JSON (${(error as Error).message})`);
  }
  const field = (pkg as { taskq?: { app?: unknown } } | null)?.taskq?.app;
  if (field === undefined) return undefined;
  if (typeof field !== 'string' || field === '') {
    throw new ConfigError(`"taskq.app" in ${pkgFile} must be a module path such as "./src/app.ts", got ${JSON.stringify(field)}`);
  }
  return { file: resolveModule(field, cwd, 'package.json'), given: field, source: 'package.json' };
}

function resolveModule(spec: string, cwd: string, source: AppLocation['source']): string {
  const isPath = spec.startsWith('.') || path.isAbsolute(spec) || /\.[cm]?[jt]sx?$/.test(spec);
  if (isPath) {
    const file = path.resolve(cwd, spec);
    if (!existsSync(file)) {
      throw new ConfigError(
        `${source === '--app' ? '--app' : '"taskq.app" in package.json'} ${JSON.stringify(spec)}: no such file (looked for ${file}); give the path of the module that creates your app, relative to ${cwd}`,
      );
    }
    return file;
  }
  try {
    // Resolve as the user's package would, not from the CLI's own location.
    return createRequire(path.join(cwd, 'package.json')).resolve(spec);
  } catch (error) {
    throw new ConfigError(`--app ${JSON.stringify(spec)}: cannot find the package from ${cwd} (${(error as Error).message.split('\n')[0]}); is it installed?`, {
      cause: error,
    });
  }
}

/** Import a module file, through tsx when it is TypeScript. */
async function importModule(file: string): Promise<Record<string, unknown>> {
  if (TS_EXTENSIONS.has(path.extname(file))) await registerTsx();
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/**
 * True for a core `App`, also when a second copy of `@taskq/core` made it
 * (then `instanceof` fails, so check the shape the CLI relies on).
 */
export function isApp(value: unknown): value is App {
  if (value instanceof App) return true;
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<App>;
  return v.tasks instanceof Map && typeof v.sendTask === 'function' && typeof v.getBroker === 'function';
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return `a ${typeof value}`;
}

/** Import the module at `location` and return its app: the export named `app`, else the default export. */
export async function importApp(location: AppLocation): Promise<App> {
  const mod = await importModule(location.file);
  const candidate = 'app' in mod ? mod.app : mod.default;
  if (isApp(candidate)) return candidate;
  const exported = Object.keys(mod).filter((k) => k !== '__esModule');
  const found = 'app' in mod ? `its export "app" is ${describeValue(mod.app)}` : 'default' in mod ? `its default export is ${describeValue(mod.default)}` : 'it has neither';
  throw new ConfigError(
    `${location.given} does not export a taskq app: expected an export named "app" or a default export made with createApp(), but ${found} (exports: ${exported.length > 0 ? exported.join(', ') : 'none'})`,
  );
}

/** Load the app named by `--app` or package.json; undefined when neither names one. */
export async function loadApp(appFlag: string | undefined, cwd = process.cwd()): Promise<App | undefined> {
  const location = locateApp(appFlag, cwd);
  return location ? importApp(location) : undefined;
}
