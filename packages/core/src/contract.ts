/**
 * Task contracts: a task's name and types without its implementation, so a
 * service can send a task with full types while importing only `@taskq/core`
 * and the contract module. The implementing service registers its function
 * against the same contract with `app.implement(contract, fn)`.
 */
import type { TaskOptions } from './task-options.js';

/** Routing defaults a producer needs to send the task where its workers listen. */
export type ContractOptions = Pick<TaskOptions, 'queue' | 'priority' | 'expires' | 'ignoreResult'>;

export interface TaskContract<A extends unknown[] = unknown[], R = unknown> {
  readonly name: string;
  readonly options: Readonly<ContractOptions>;
  /** Type carrier only; never set at run time. */
  readonly __types?: { args: A; result: R };
}

/** Declare a task's name, argument and result types: `defineTask<[to: string], Sent>('email.send')`. */
export function defineTask<A extends unknown[], R>(name: string, options: ContractOptions = {}): TaskContract<A, R> {
  return Object.freeze({ name, options: Object.freeze({ ...options }) });
}

export type ContractArgs<C> = C extends TaskContract<infer A, unknown> ? A : never;
export type ContractResult<C> = C extends TaskContract<unknown[], infer R> ? R : never;
