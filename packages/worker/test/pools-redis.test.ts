/**
 * The threads and process pools on Redis (db 6, own queues per test, keys
 * deleted after each): the children open their own backend connections and
 * store their results themselves, as Celery's prefork children do.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll } from 'vitest';
import { describePools } from './helpers/pool-suite.js';
import { redisCommands } from './helpers/redis-keys.js';

const DB = 6;
const URL_ = `redis://127.0.0.1:6379/${DB}`;

beforeAll(async () => {
  // Fail loudly when Redis is absent (never skip).
  await redisCommands(DB, [['PING']]);
});

process.env.POOL_TEST_BROKER = URL_;
process.env.POOL_TEST_BACKEND = URL_;
process.env.POOL_TEST_TRANSPORT_MODULE = fileURLToPath(new URL('../../broker-redis/dist/index.js', import.meta.url));

describePools(
  'redis://',
  async () => (await import('./fixtures/pool-app.js')).app,
  async (queues, ids) => {
    const keys = [...queues, ...ids.map((id) => `celery-task-meta-${id}`)];
    if (keys.length > 0) await redisCommands(DB, [['DEL', ...keys]]);
  },
);
