import { defineConfig } from 'tsup';

export default defineConfig({
  // `redis` is its own entry so `import '@taskq/beat'` never loads ioredis.
  entry: ['src/index.ts', 'src/redis.ts', 'src/testing.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: true,
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
});
