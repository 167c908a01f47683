/** The transport module contract of core's transport registry (`await import('@taskq/broker-redis')`). */
import type { TransportContext } from '@taskq/core';
import { RedisBroker } from './redis-broker.js';
import { RedisResultBackend } from './redis-result-backend.js';

/** The broker for a redis://, rediss://, redis+socket:// or sentinel:// URL, configured from the app. */
export function createBroker(url: string, context: TransportContext): RedisBroker {
  return new RedisBroker({
    url,
    transportOptions: context.config.brokerTransportOptions,
    connectionTimeoutMs: context.config.brokerConnectionTimeout,
    log: context.log,
  });
}

/** The result backend for a Redis URL, with the app's `resultExpires`. */
export function createResultBackend(url: string, context: TransportContext): RedisResultBackend {
  return new RedisResultBackend({
    url,
    resultExpires: context.config.resultExpires,
    connectionTimeoutMs: context.config.brokerConnectionTimeout,
    transportOptions: context.config.brokerTransportOptions,
    log: context.log,
  });
}
