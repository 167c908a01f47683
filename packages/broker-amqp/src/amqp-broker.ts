/**
 * The RabbitMQ transport: Celery 5.2's topology and message properties,
 * publisher confirms, prefetch with global QoS, dead-lettering of malformed
 * messages, and reconnects. See README.md for the options and semantics.
 */
import {
  type AppConfig,
  type Broker,
  type BrokerCapabilities,
  ConfigError,
  type ConsumeOptions,
  type Consumer,
  createLogger,
  type Delivery,
  type Logger,
  type PublishRoute,
  type SerializationError,
  type TaskMessage,
} from '@taskq/core';
import type { ConsumeMessage } from 'amqplib';
import { AmqpConnection, type ReconnectOptions } from './amqp-connection.js';
import { AmqpConsumer, type ConsumerHost } from './amqp-consumer.js';
import { AmqpFanout } from './amqp-fanout.js';
import { type AmqpEndpoint, parseAmqpUrls } from './amqp-url.js';
import {
  DEAD_CODE_HEADER,
  DEAD_LETTER_QUEUE,
  DEAD_QUEUE_HEADER,
  DEAD_REASON_HEADER,
  DEFAULT_EXCHANGE,
  type QueueSpec,
  deadLetterQueueSpec,
  replyQueueSpec,
  taskQueueSpec,
} from './celery-topology.js';
import { ConfirmPublisher } from './confirm-publisher.js';
import { toFieldTable } from './field-table.js';
import { TopologyManager } from './topology-manager.js';
import { toAmqpPublish } from './wire.js';

/** Transport options (`broker_transport_options`), snake_case as Celery/kombu name them. */
export interface AmqpTransportOptions {
  /** `x-max-priority` of task queues (Celery: `task_queue_max_priority`). Unset: no priorities. Alias: `queue_max_priority`. */
  max_priority?: number;
  queue_max_priority?: number;
  /** `classic` (default) or `quorum` (`x-queue-type: quorum`; not with `max_priority`). */
  queue_type?: 'classic' | 'quorum';
  /** Where malformed messages go (default `taskq.dead`). */
  dead_letter_queue?: string;
  /** Publish task messages with `mandatory` so an unroutable one is an error (default true). */
  mandatory?: boolean;
  /**
   * Leave out task headers whose value is null (and `timelimit` `[null, null]`), default true.
   * Celery reads them all with `.get()`, so its workers treat both forms alike; RabbitMQ
   * decodes every header of every message, and the 7 nulls cost it about a fifth of its CPU
   * per message. `false` sends all 16 headers exactly as Celery does.
   */
  compact_headers?: boolean;
  /** Extra socket options for amqplib (TLS for amqps://: `ca`, `cert`, `key`, `servername`, `rejectUnauthorized`). */
  socket_options?: Record<string, unknown>;
  /** First and longest reconnect delay, ms (defaults 100 and 5000). */
  reconnect_initial_delay_ms?: number;
  reconnect_max_delay_ms?: number;
}

export interface AmqpBrokerOptions {
  /** `amqp://user:pass@host:5672/vhost`, `amqps://…`, `pyamqp://…`, or `;`-separated URLs for failover. */
  url: string;
  log?: Logger;
  /** How long a publish waits for a lost connection to come back, ms (`brokerConnectionTimeout`, default 10000). */
  connectionTimeoutMs?: number;
  transportOptions?: AmqpTransportOptions;
  /**
   * When set (the app's result backend is rpc://), publishing a task first
   * declares its `reply_to` queue with this `x-expires` (ms), as Celery's
   * rpc backend does in `on_task_call`, so the result has somewhere to go.
   */
  rpcReplyQueueExpiresMs?: number;
}

export class AmqpBroker implements Broker {
  readonly transport = 'amqp';
  readonly displayUrl: string;
  readonly capabilities: BrokerCapabilities;
  readonly endpoints: readonly AmqpEndpoint[];
  /** The underlying connection (tests, and other parts of taskq that need raw AMQP: events, remote control). */
  readonly connection: AmqpConnection;
  readonly topology: TopologyManager;
  private readonly publisher: ConfirmPublisher;
  private readonly log: Logger;
  private readonly maxPriority: number | undefined;
  private readonly queueType: 'classic' | 'quorum';
  private readonly deadLetterQueue: string;
  private readonly mandatory: boolean;
  private readonly compactHeaders: boolean;
  private readonly connectionTimeoutMs: number;
  private readonly consumers = new Set<AmqpConsumer>();
  private fanoutChannel: AmqpFanout | undefined;

  constructor(private readonly options: AmqpBrokerOptions) {
    const t = options.transportOptions ?? {};
    this.endpoints = parseAmqpUrls(options.url);
    this.displayUrl = this.endpoints.map((e) => e.displayUrl).join(';');
    this.log = (options.log ?? createLogger()).child({ transport: 'amqp' });
    this.maxPriority = validateMaxPriority(t.max_priority ?? t.queue_max_priority);
    this.queueType = t.queue_type ?? 'classic';
    if (this.queueType !== 'classic' && this.queueType !== 'quorum') {
      throw new ConfigError(`queue_type ${JSON.stringify(this.queueType)} is not supported; use "classic" or "quorum"`);
    }
    if (this.queueType === 'quorum' && this.maxPriority !== undefined) {
      throw new ConfigError('quorum queues do not support x-max-priority: use queue_type "classic" with max_priority, or drop max_priority');
    }
    this.deadLetterQueue = t.dead_letter_queue ?? DEAD_LETTER_QUEUE;
    this.mandatory = t.mandatory ?? true;
    this.compactHeaders = t.compact_headers ?? true;
    this.connectionTimeoutMs = options.connectionTimeoutMs ?? 10_000;
    this.capabilities = Object.freeze({
      priority: this.maxPriority !== undefined,
      priorityOrder: 'highest-first',
      fanout: true,
      delayedDelivery: false,
      nativeAck: true,
    });
    const reconnect: Partial<ReconnectOptions> = {};
    if (t.reconnect_initial_delay_ms !== undefined) reconnect.initialDelayMs = t.reconnect_initial_delay_ms;
    if (t.reconnect_max_delay_ms !== undefined) reconnect.maxDelayMs = t.reconnect_max_delay_ms;
    this.connection = new AmqpConnection({ endpoints: this.endpoints, log: this.log, reconnect, socketOptions: t.socket_options, connectionName: 'taskq broker' });
    const timeout = (): number => this.connectionTimeoutMs;
    this.topology = new TopologyManager(this.connection, this.log, timeout);
    this.publisher = new ConfirmPublisher(this.connection, this.log, timeout);
  }

  async connect(): Promise<void> {
    await this.connection.connect();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    this.consumers.clear();
    await this.fanoutChannel?.close();
    this.publisher.close();
    this.topology.close();
    await this.connection.close();
  }

  /** Broadcast exchanges as Celery declares them (remote control, events); see amqp-fanout.ts. */
  fanout(): AmqpFanout {
    this.fanoutChannel ??= new AmqpFanout({ connection: this.connection, log: this.log, timeoutMs: () => this.connectionTimeoutMs });
    return this.fanoutChannel;
  }

  /** How a task queue is declared here (Celery's topology with this broker's options). */
  queueSpec(queue: string): QueueSpec {
    return taskQueueSpec(queue, { maxPriority: this.maxPriority, queueType: this.queueType });
  }

  async publish(message: TaskMessage, route: PublishRoute): Promise<void> {
    const { content, options } = toAmqpPublish(message, this.compactHeaders);
    const exchange = route.exchange ?? DEFAULT_EXCHANGE;
    const routingKey = route.routingKey ?? route.queue;
    const replyTo = message.properties.reply_to;
    const declareReplyQueue = this.options.rpcReplyQueueExpiresMs !== undefined && replyTo !== undefined && !message.headers.ignore_result;
    const declared = this.topology.isDeclared(route.queue) && (!declareReplyQueue || this.topology.isDeclared(replyTo));
    // Once the queues are declared on this connection, no declaration step (and no await) before the publish.
    const prepare = declared
      ? undefined
      : async () => {
          await this.topology.declare(this.queueSpec(route.queue));
          if (declareReplyQueue) await this.topology.declare(replyQueueSpec(replyTo, this.options.rpcReplyQueueExpiresMs));
        };
    await this.publisher.publish({ exchange, routingKey, mandatory: this.mandatory }, content, options, prepare);
  }

  async consume(queues: readonly string[], onDelivery: (delivery: Delivery) => void, options: ConsumeOptions): Promise<Consumer> {
    const consumer = new AmqpConsumer([...queues], this.consumerHost(), onDelivery, options);
    await consumer.start();
    this.consumers.add(consumer);
    const close = consumer.close.bind(consumer);
    consumer.close = async () => {
      this.consumers.delete(consumer);
      await close();
    };
    return consumer;
  }

  async purge(queue: string): Promise<number> {
    return this.topology.purge(queue);
  }

  async queueSize(queue: string): Promise<number> {
    return this.topology.messageCount(queue);
  }

  /** Delete a queue and its direct exchange (tests and tooling). */
  async deleteQueue(queue: string): Promise<void> {
    await this.topology.deleteQueue(queue);
  }

  private consumerHost(): ConsumerHost {
    return {
      connection: this.connection,
      topology: this.topology,
      log: this.log,
      timeoutMs: () => this.connectionTimeoutMs,
      queueSpec: (q) => this.queueSpec(q),
      globalQos: this.queueType !== 'quorum',
      deadLetter: (msg, queue, error) => this.deadLetter(msg, queue, error),
    };
  }

  /** Publish a copy of a malformed message to the dead-letter queue, with why and where from in its headers. */
  private async deadLetter(msg: ConsumeMessage, queue: string, error: SerializationError): Promise<string> {
    const p = msg.properties;
    const headers = toFieldTable({
      ...((p.headers ?? {}) as Record<string, unknown>),
      [DEAD_REASON_HEADER]: error.message,
      [DEAD_CODE_HEADER]: (error as { code?: string }).code ?? 'TASKQ_ERR_DECODE',
      [DEAD_QUEUE_HEADER]: queue,
    });
    // Keep the original properties, minus what would make the copy vanish (expiration) or be refused (user_id).
    const { userId: _userId, expiration: _expiration, ...kept } = p;
    const options = { ...kept, headers, deliveryMode: 2 };
    const target = this.deadLetterQueue;
    await this.publisher.publish({ exchange: DEFAULT_EXCHANGE, routingKey: target, mandatory: true }, msg.content, stripUndefined(options), () =>
      this.topology.declare(deadLetterQueueSpec(target)),
    );
    return target;
  }
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function validateMaxPriority(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 255) {
    throw new ConfigError(`max_priority must be an integer from 1 to 255 (Celery uses 10 for 0–9), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Create an AMQP broker from options (not connected yet: call `connect()`). */
export function createAmqpBroker(options: AmqpBrokerOptions): AmqpBroker {
  return new AmqpBroker(options);
}

/** The broker for `createApp({ brokerUrl: 'amqp://…' })`: transport options and timeouts from the app config. */
export function amqpBrokerFromConfig(url: string, config: AppConfig | undefined, log: Logger | undefined): AmqpBroker {
  const opts: AmqpBrokerOptions = { url, transportOptions: (config?.brokerTransportOptions ?? {}) as AmqpTransportOptions };
  if (log) opts.log = log;
  if (config) {
    opts.connectionTimeoutMs = config.brokerConnectionTimeout;
    if (/^rpc:\/\//i.test(config.resultBackend)) opts.rpcReplyQueueExpiresMs = config.resultExpires * 1000;
  }
  return new AmqpBroker(opts);
}
