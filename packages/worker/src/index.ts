export { type BannerInfo, renderBanner } from './banner.js';
export { Autoscaler, type AutoscalerOptions } from './autoscaler.js';
export { WorkerLostError } from './errors.js';
export { AsyncPool } from './pools/async-pool.js';
export { ChildPool, type ChildPoolOptions } from './pools/child-pool.js';
export type { Pool, PoolJob, PoolResult } from './pools/pool.js';
export { RateLimiter } from './rate-limiter.js';
export { REVOKE_EXPIRES_MS, REVOKES_MAX, RevokedSet, type RevokeOptions, registerRevoker, revoke, type Revoker } from './revocation.js';
export { emitOutcome, runTask } from './run-task.js';
export { type ControlledWorker, controlHandlers, startControlMailbox, workerStats } from './control-mailbox.js';
export { WorkerEvents, type WorkerEventsOptions } from './events-dispatcher.js';
export { MetricsServer, RUNTIME_BUCKETS, WorkerMetrics } from './metrics.js';
export { type Monitoring, type MonitoringOptions, type MonitoredWorker, startMonitoring } from './monitoring.js';
export { ObserverFanout, RequestTracker, requestInfo, type TaskObserver, type TrackedRequest } from './request-tracker.js';
export { runWorker, Worker, type WorkerStats } from './worker.js';
export {
  DEFAULT_ASYNC_CONCURRENCY,
  DEFAULT_SHUTDOWN_TIMEOUT,
  type CeleryPoolAlias,
  expandHostname,
  POOL_ALIASES,
  type PoolName,
  type ResolvedWorkerOptions,
  resolveWorkerOptions,
  type WorkerOptions,
} from './worker-options.js';
