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
  /** taskq transport options (Celery's `broker_transport_options`). */
  brokerTransportOptions?: Record<string, unknown>;
  /** The same broker and backend as Python Celery names them, and its extra settings. */
  py: { brokerUrl: string; backendUrl: string; env?: Record<string, string> };
  /** What the priority order is for this broker (Celery's semantics differ). */
  priorityOrder: 'lowest-first' | 'highest-first';
  /** Results can be read by a process other than the sender (false for rpc://). */
  sharedResults: boolean;
  /** The broker itself drops expired messages (RabbitMQ's per-message TTL), so no REVOKED state is stored. */
  brokerDropsExpired: boolean;
}

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Redis, db 13 reserved for the interop tests. */
export const redisTransport: InteropTransport = {
  name: 'redis',
  brokerUrl: `${REDIS}/13`,
  backendUrl: `${REDIS}/13`,
  py: { brokerUrl: `${REDIS}/13`, backendUrl: `${REDIS}/13` },
  priorityOrder: 'lowest-first',
  sharedResults: true,
  brokerDropsExpired: false,
};

const AMQP = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
/** Queues on RabbitMQ get x-max-priority 10 on both sides, as a Celery project configures it. */
const AMQP_PRIORITY = { brokerTransportOptions: { max_priority: 10 }, pyEnv: { CELERY_MAX_PRIORITY: '10' } };

/** RabbitMQ with the rpc:// result backend (results as messages to the sender's reply queue). */
export const amqpRpcTransport: InteropTransport = {
  name: 'amqp + rpc://',
  brokerUrl: AMQP,
  backendUrl: 'rpc://',
  brokerTransportOptions: AMQP_PRIORITY.brokerTransportOptions,
  py: { brokerUrl: AMQP, backendUrl: 'rpc://', env: AMQP_PRIORITY.pyEnv },
  priorityOrder: 'highest-first',
  sharedResults: false,
  brokerDropsExpired: true,
};

/** RabbitMQ with results in Redis (db 13). */
export const amqpRedisTransport: InteropTransport = {
  ...amqpRpcTransport,
  name: 'amqp + redis results',
  backendUrl: `${REDIS}/13`,
  py: { brokerUrl: AMQP, backendUrl: `${REDIS}/13`, env: AMQP_PRIORITY.pyEnv },
  sharedResults: true,
};

/** Redis db 12 for the crash tests: their unacked entries must not mix with other tests'. */
export const redisCrashTransport: InteropTransport = {
  ...redisTransport,
  brokerUrl: `${REDIS}/12`,
  backendUrl: `${REDIS}/12`,
  py: { brokerUrl: `${REDIS}/12`, backendUrl: `${REDIS}/12` },
};

/** RabbitMQ for the crash tests, results in Redis db 12 (the test counts them from another process). */
export const amqpCrashTransport: InteropTransport = {
  ...amqpRedisTransport,
  backendUrl: `${REDIS}/12`,
  py: { ...amqpRedisTransport.py, backendUrl: `${REDIS}/12` },
};

/** A queue name no other test uses. */
export function uniqueQueue(label: string): string {
  return `interop-${label}-${randomUUID().slice(0, 8)}`;
}
