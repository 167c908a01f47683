/**
 * The transports the interop and crash tests run over. Each entry gives the
 * URLs taskq and Python Celery use to share queues and results, so one test
 * file covers every broker.
 */
import { randomUUID } from 'node:crypto';

export interface InteropTransport {
  name: string;
  /** taskq's broker and result backend. */
  brokerUrl: string;
  backendUrl: string;
  /** The same broker and backend as Python Celery names them. */
  py: { brokerUrl: string; backendUrl: string };
  /** What the priority order is for this broker (Celery's semantics differ). */
  priorityOrder: 'lowest-first' | 'highest-first';
}

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Redis, db 13 reserved for the interop tests. */
export const redisTransport: InteropTransport = {
  name: 'redis',
  brokerUrl: `${REDIS}/13`,
  backendUrl: `${REDIS}/13`,
  py: { brokerUrl: `${REDIS}/13`, backendUrl: `${REDIS}/13` },
  priorityOrder: 'lowest-first',
};

/** Redis db 12 for the crash tests: their unacked entries must not mix with other tests'. */
export const redisCrashTransport: InteropTransport = {
  ...redisTransport,
  name: 'redis',
  brokerUrl: `${REDIS}/12`,
  backendUrl: `${REDIS}/12`,
  py: { brokerUrl: `${REDIS}/12`, backendUrl: `${REDIS}/12` },
};

/** A queue name no other test uses. */
export function uniqueQueue(label: string): string {
  return `interop-${label}-${randomUUID().slice(0, 8)}`;
}
