/** The build every @taskq package shares: ESM for Node 20 with declarations. Each package names only its entries. */
import { defineConfig, type Options } from 'tsup';

export function taskqBuild(entry: string[], extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: true,
    tsconfig: 'tsconfig.build.json',
    sourcemap: true,
    clean: true,
    ...extra,
  });
}
