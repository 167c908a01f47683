/**
 * @taskq/broker-redis: the Redis transport and result backend, on kombu's
 * layout so Python Celery and taskq share queues and results.
 * Core loads it for redis://, rediss://, redis+socket:// and sentinel:// URLs.
 */
export { createBroker, createResultBackend } from './transport-module.js';
export { createRedisBroker, RedisBroker } from './redis-broker.js';
export type { DeadLetter, FetchedEntry, RedisBrokerOptions } from './redis-broker.js';
export type { RedisConsumer, RedisDelivery } from './redis-consumer.js';
export { buildBroadcastEnvelope, openBroadcastEnvelope, RedisFanout, type RedisFanoutOptions } from './redis-fanout.js';
export { createRedisResultBackend, RedisResultBackend } from './redis-result-backend.js';
export type { RedisResultBackendOptions } from './redis-result-backend.js';
export * as kombu from './kombu-layout.js';
export { KombuLayout } from './kombu-layout.js';
export { parseRedisUrl } from './redis-url.js';
export type { ParsedRedisUrl } from './redis-url.js';
export type { RedisTransportOptions, ResolvedTransportOptions } from './transport-options.js';
