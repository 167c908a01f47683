export { type BannerInfo, renderBanner } from './banner.js';
export { AsyncPool } from './pools/async-pool.js';
export type { Pool, PoolJob, PoolResult } from './pools/pool.js';
export { runWorker, Worker, type WorkerStats } from './worker.js';
export {
  DEFAULT_ASYNC_CONCURRENCY,
  DEFAULT_SHUTDOWN_TIMEOUT,
  expandHostname,
  type ResolvedWorkerOptions,
  resolveWorkerOptions,
  type WorkerOptions,
} from './worker-options.js';
