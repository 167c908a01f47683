import { taskqBuild } from '../../tsup.base.js';

// `redis` is its own entry so `import '@taskq/beat'` never loads ioredis.
export default taskqBuild(['src/index.ts', 'src/redis.ts', 'src/testing.ts']);
