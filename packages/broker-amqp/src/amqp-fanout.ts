/**
 * Broadcast exchanges on RabbitMQ, declared as Celery 5.2 declares them
 * (celery-protocol.md §3.1): `celery.pidbox` (fanout, non-durable),
 * `reply.celery.pidbox` (direct, non-durable), `celeryev` (topic, durable);
 * subscribers' queues are non-durable and auto-deleted with Celery's
 * `x-message-ttl` / `x-expires`, consumed without acks. Bodies are JSON
 * (`application/json`, utf-8). One channel of the broker's connection, made
 * again (with every subscription) after a reconnect.
 */
import {
  type BroadcastBinding,
  type BroadcastMessage,
  type BroadcastSubscription,
  type ExchangeSpec,
  type Fanout,
  type Logger,
  parseJson,
  type ReceivedBroadcast,
  stringifyJson,
} from '@taskq/core';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { AmqpConnection } from './amqp-connection.js';
import { toFieldTable } from './field-table.js';

export interface AmqpFanoutOptions {
  connection: AmqpConnection;
  log: Logger;
  /** Milliseconds to wait for a lost connection before a publish fails. */
  timeoutMs: () => number;
}

interface Subscriber {
  binding: BroadcastBinding;
  onMessage: (message: ReceivedBroadcast) => void;
  consumerTag?: string;
  closed: boolean;
}

/** Decode a broadcast message; undefined when the body is not JSON. */
export function decodeBroadcast(msg: ConsumeMessage, log: Logger): ReceivedBroadcast | undefined {
  try {
    return {
      body: parseJson(msg.content.toString('utf8'), 'broadcast body'),
      headers: (msg.properties.headers ?? {}) as Record<string, unknown>,
      deliveryMode: msg.properties.deliveryMode === 2 ? 2 : 1,
      routingKey: msg.fields.routingKey,
      exchange: msg.fields.exchange,
    };
  } catch (error) {
    log.warn({ err: error, exchange: msg.fields.exchange }, 'ignored a broadcast message whose body is not JSON');
    return undefined;
  }
}

/** Fanout for one {@link AmqpBroker}; made on first use, closed with the broker. */
export class AmqpFanout implements Fanout {
  private channel: Promise<Channel> | undefined;
  private readonly declared = new Set<string>();
  private readonly subscribers = new Set<Subscriber>();
  private closed = false;
  private readonly onReady = (): void => {
    if (this.subscribers.size > 0) void this.resume();
  };

  constructor(private readonly options: AmqpFanoutOptions) {
    options.connection.on('ready', this.onReady);
  }

  private open(): Promise<Channel> {
    this.channel ??= (async () => {
      const model = await this.options.connection.ready(this.options.timeoutMs());
      const ch = await model.createChannel();
      ch.on('error', (error: Error) => this.options.log.warn({ err: error }, 'broadcast channel closed by the broker'));
      ch.on('close', () => {
        this.channel = undefined;
        this.declared.clear();
      });
      return ch;
    })().catch((error: unknown) => {
      this.channel = undefined;
      throw error;
    });
    return this.channel;
  }

  private async declareExchange(ch: Channel, exchange: ExchangeSpec): Promise<void> {
    if (this.declared.has(exchange.name)) return;
    await ch.assertExchange(exchange.name, exchange.type, { durable: exchange.durable, autoDelete: false });
    this.declared.add(exchange.name);
  }

  async publish(exchange: ExchangeSpec, routingKey: string, message: BroadcastMessage): Promise<void> {
    const body = Buffer.from(stringifyJson(message.body, 'broadcast body'), 'utf8');
    const ch = await this.open();
    await this.declareExchange(ch, exchange);
    ch.publish(exchange.name, routingKey, body, {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: toFieldTable(message.headers) as Record<string, unknown>,
      deliveryMode: message.deliveryMode ?? 1,
      priority: 0,
    });
  }

  async subscribe(binding: BroadcastBinding, onMessage: (message: ReceivedBroadcast) => void): Promise<BroadcastSubscription> {
    const s: Subscriber = { binding, onMessage, closed: false };
    this.subscribers.add(s);
    try {
      await this.consume(await this.open(), s);
    } catch (error) {
      this.subscribers.delete(s);
      throw error;
    }
    return {
      close: async () => {
        s.closed = true;
        this.subscribers.delete(s);
        const tag = s.consumerTag;
        if (!tag || !this.channel) return;
        await (await this.channel).cancel(tag).catch(() => {});
      },
    };
  }

  private async consume(ch: Channel, s: Subscriber): Promise<void> {
    const b = s.binding;
    await this.declareExchange(ch, b.exchange);
    await ch.assertQueue(b.queue, { durable: false, autoDelete: true, arguments: { ...b.queueArguments } });
    await ch.bindQueue(b.queue, b.exchange.name, b.bindingKey);
    const { consumerTag } = await ch.consume(
      b.queue,
      (msg) => {
        if (!msg || s.closed) return;
        const m = decodeBroadcast(msg, this.options.log);
        if (m) s.onMessage(m);
      },
      { noAck: true },
    );
    s.consumerTag = consumerTag;
  }

  /** After a reconnect: consume every subscription again (its auto-delete queue declared anew). */
  private async resume(): Promise<void> {
    if (this.closed) return;
    try {
      const ch = await this.open();
      for (const s of this.subscribers) await this.consume(ch, s);
    } catch (error) {
      this.options.log.warn({ err: error }, 'could not resume broadcast subscriptions');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.options.connection.off('ready', this.onReady);
    this.subscribers.clear();
    const ch = this.channel;
    this.channel = undefined;
    if (ch) await (await ch.catch(() => undefined))?.close().catch(() => {});
  }
}
