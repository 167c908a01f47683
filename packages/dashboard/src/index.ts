/**
 * @taskq/dashboard: a web dashboard for taskq and Celery fleets (Flower's
 * job), run by `taskq dashboard` or embedded with {@link startDashboard}.
 */
export { ACTION_HEADER, Dashboard, type DashboardOptions, DashboardRequestError, startDashboard } from './dashboard.js';
export {
  FleetState,
  type FleetStateOptions,
  type QueueView,
  READY_STATES,
  type Series,
  type Snapshot,
  type TaskStateName,
  type TaskView,
  type WorkerView,
} from './state.js';
