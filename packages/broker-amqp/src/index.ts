/**
 * `@taskq/broker-amqp`: the RabbitMQ transport (`amqp://`, `amqps://`,
 * `pyamqp://`) and the `rpc://` result backend, on Celery 5.2's topology so
 * Python Celery and taskq share queues. Core loads it on demand:
 * `createApp({ brokerUrl: 'amqp://guest:guest@localhost:5672//' })`.
 */
import { ConfigError, type TransportContext } from '@taskq/core';
import { type AmqpBroker, amqpBrokerFromConfig } from './amqp-broker.js';
import { RpcResultBackend, type RpcResultBackendOptions } from './rpc-result-backend.js';

export { AmqpBroker, amqpBrokerFromConfig, createAmqpBroker } from './amqp-broker.js';
export type { AmqpBrokerOptions, AmqpTransportOptions } from './amqp-broker.js';
export { AmqpConnection } from './amqp-connection.js';
export type { AmqpConnectionOptions, ReconnectOptions } from './amqp-connection.js';
export { AmqpFanout, type AmqpFanoutOptions, decodeBroadcast } from './amqp-fanout.js';
export { DEFAULT_HEARTBEAT_SECONDS, parseAmqpUrl, parseAmqpUrls } from './amqp-url.js';
export type { AmqpEndpoint } from './amqp-url.js';
export * from './celery-topology.js';
export { toFieldTable } from './field-table.js';
export { createRpcResultBackend, RpcResultBackend } from './rpc-result-backend.js';
export type { RpcResultBackendOptions, StoreContext } from './rpc-result-backend.js';
export { fromAmqpMessage, toAmqpPublish } from './wire.js';

/** Core's module contract: the broker for `amqp://`, `amqps://` and `pyamqp://` URLs. */
export function createBroker(url: string, context: TransportContext): AmqpBroker {
  return amqpBrokerFromConfig(url, context.config, context.log);
}

/**
 * Core's module contract: the `rpc://` result backend. Results travel through
 * the app's AMQP broker (`config.brokerUrl`); the backend reads the reply
 * queue named by the app's `oid`, which the app sends as `reply_to`.
 */
export function createResultBackend(url: string, context: TransportContext): RpcResultBackend {
  const brokerUrl = context.config.brokerUrl;
  if (!/^(amqps?|pyamqp):\/\//i.test(brokerUrl)) {
    throw new ConfigError(
      `${url.split('://')[0]}:// sends results as AMQP messages through the broker, but the broker is ${brokerUrl.split('://')[0]}://; use an amqp:// broker, or redis:// as the result backend`,
    );
  }
  const options: RpcResultBackendOptions = {
    url: brokerUrl,
    resultExpires: context.config.resultExpires,
    connectionTimeoutMs: context.config.brokerConnectionTimeout,
    log: context.log,
  };
  options.oid = context.oid;
  const socket = context.config.brokerTransportOptions.socket_options;
  if (socket && typeof socket === 'object') options.socketOptions = socket as Record<string, unknown>;
  return new RpcResultBackend(options);
}
