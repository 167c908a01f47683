/**
 * What the worker's main process and its pool threads/children say to each
 * other. Messages travel by structured clone (worker_threads' postMessage,
 * child_process with `serialization: 'advanced'`), so a TaskMessage (bigints
 * included) crosses as is; errors cross as name/message/stack.
 */
import { type ResultMeta, Retry, type StoreContext, type TaskMessage, type TraceOutcome } from '@taskq/core';

/** An error as it crosses the boundary. */
export interface WireError {
  name: string;
  message: string;
  stack?: string | undefined;
}

/** How a thread/child sets itself up. */
export interface ChildInit {
  /** Absolute path (or package specifier) of the module exporting the app. */
  appModule: string;
  hostname: string;
  pool: 'threads' | 'process';
  /** Store states through the main process (its backend lives in that process: memory://). */
  proxyResults: boolean;
}

/** The part of core's TraceEnv that can cross (the signal and backend are rebuilt in the child). */
export interface WireEnv {
  hostname: string;
  queue?: string | undefined;
  redelivered?: boolean | undefined;
  timeLimit?: number | undefined;
  softTimeLimit?: number | undefined;
}

export type ToChild =
  | { type: 'init'; init: ChildInit }
  | { type: 'run'; jobId: number; message: TaskMessage; env: WireEnv }
  | { type: 'abort'; jobId: number; reason: WireError }
  | { type: 'stored'; reqId: number; error?: WireError }
  | { type: 'exit' };

export type WireOutcome =
  | { kind: 'success'; runtimeMs: number }
  | { kind: 'failure'; runtimeMs: number; excType: string; error: WireError }
  | { kind: 'retry'; runtimeMs: number; countdown: number; retryMessage: TaskMessage; reason: WireError }
  | { kind: 'revoked'; reason: 'expired' | 'revoked' }
  | { kind: 'reject'; requeue: boolean; reason: string }
  | { kind: 'ignored'; runtimeMs: number };

export type FromChild =
  | { type: 'ready'; pid: number; threadId: number }
  | { type: 'init-failed'; error: WireError }
  | { type: 'done'; jobId: number; outcome: WireOutcome; memoryKiB: number }
  | { type: 'store'; reqId: number; jobId: number; taskId: string; meta: ResultMeta; context?: StoreContext | undefined };

export function toWireError(error: unknown): WireError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

export function fromWireError(wire: WireError): Error {
  const error = new Error(wire.message);
  error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}

/** A trace outcome made small and cloneable: the return value stays in the child (it is stored there). */
export function toWireOutcome(outcome: TraceOutcome): WireOutcome {
  switch (outcome.kind) {
    case 'success':
      return { kind: 'success', runtimeMs: outcome.runtimeMs };
    case 'failure':
      return { kind: 'failure', runtimeMs: outcome.runtimeMs, excType: outcome.excType, error: toWireError(outcome.error) };
    case 'retry':
      return { kind: 'retry', runtimeMs: outcome.runtimeMs, countdown: outcome.countdown, retryMessage: outcome.retryMessage, reason: toWireError(outcome.reason) };
    default:
      return outcome;
  }
}

export function fromWireOutcome(wire: WireOutcome): TraceOutcome {
  switch (wire.kind) {
    case 'success':
      return { kind: 'success', value: undefined, runtimeMs: wire.runtimeMs };
    case 'failure':
      return { kind: 'failure', runtimeMs: wire.runtimeMs, excType: wire.excType, error: fromWireError(wire.error) };
    case 'retry':
      return { kind: 'retry', runtimeMs: wire.runtimeMs, countdown: wire.countdown, retryMessage: wire.retryMessage, reason: new Retry({ message: wire.reason.message, countdown: wire.countdown }) };
    default:
      return wire;
  }
}
