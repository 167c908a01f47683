/**
 * Broadcast exchanges on Redis, as kombu maps them (celery-protocol.md §2.6,
 * §5.3): fanout and topic exchanges are PUB/SUB channels
 * (`<global_keyprefix>/<db>.<exchange>[/<routing key>]`, subscribed with
 * PSUBSCRIBE, `#` → `*`); direct exchanges (pidbox replies) look up the
 * binding set `_kombu.binding.<exchange>` and LPUSH to each bound queue's
 * list, which the subscriber drains with BRPOP. Messages are kombu's JSON
 * envelope with a base64 body.
 */
import { randomUUID } from 'node:crypto';
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
import type { Redis, RedisOptions } from 'ioredis';
import { type KombuLayout, SEP } from './kombu-layout.js';
import { createClient, waitReady, withDeadline } from './redis-connection.js';

export interface RedisFanoutOptions {
  /** The broker's command connection (PUBLISH, SMEMBERS, LPUSH, SADD). */
  client: Redis;
  /** How to open the extra connections (the PSUBSCRIBE one, one BRPOP per direct subscription). */
  redisOptions: RedisOptions;
  layout: KombuLayout;
  /** The connection's database number (kombu's `/<db>.` channel prefix). */
  db: number;
  /** kombu's `fanout_prefix`: true (default) → `/<db>.`, false → none, a string → that string. */
  fanoutPrefix?: boolean | string;
  /** kombu's `fanout_patterns` (default true): append `/<routing key>` to the channel. */
  fanoutPatterns?: boolean;
  connectionTimeoutMs: number;
  log: Logger;
}

/** kombu's Redis envelope around a broadcast message. */
export function buildBroadcastEnvelope(exchange: string, routingKey: string, message: BroadcastMessage): string {
  const body = stringifyJson(message.body, 'broadcast body');
  return stringifyJson(
    {
      body: Buffer.from(body, 'utf8').toString('base64'),
      'content-encoding': 'utf-8',
      'content-type': 'application/json',
      headers: message.headers,
      properties: {
        delivery_mode: message.deliveryMode ?? 1,
        delivery_info: { exchange, routing_key: routingKey },
        priority: 0,
        body_encoding: 'base64',
        delivery_tag: randomUUID(),
      },
    },
    'broadcast envelope',
  );
}

/** Read a broadcast envelope; undefined when it is not one (logged by the caller). */
export function openBroadcastEnvelope(raw: string): ReceivedBroadcast | undefined {
  const env = parseJson(raw, 'broadcast envelope') as Record<string, unknown> | null;
  if (env === null || typeof env !== 'object' || typeof env.body !== 'string') return undefined;
  const properties = (env.properties ?? {}) as Record<string, unknown>;
  const info = (properties.delivery_info ?? {}) as Record<string, unknown>;
  const text = properties.body_encoding === 'base64' ? Buffer.from(env.body, 'base64').toString('utf8') : env.body;
  return {
    body: parseJson(text, 'broadcast body'),
    headers: (env.headers && typeof env.headers === 'object' ? env.headers : {}) as Record<string, unknown>,
    deliveryMode: properties.delivery_mode === 2 ? 2 : 1,
    routingKey: typeof info.routing_key === 'string' ? info.routing_key : '',
    exchange: typeof info.exchange === 'string' ? info.exchange : '',
  };
}

interface PatternSubscriber {
  onMessage: (message: ReceivedBroadcast) => void;
}

/** Fanout for one {@link RedisBroker}; made on first use, closed with the broker. */
export class RedisFanout implements Fanout {
  private subscriber: Redis | undefined;
  private readonly patterns = new Map<string, Set<PatternSubscriber>>();
  private readonly directs = new Set<DirectSubscription>();
  private closed = false;

  constructor(private readonly options: RedisFanoutOptions) {}

  /** The PUB/SUB channel of an exchange and routing key (kombu's `_get_publish_topic`). */
  channel(exchange: string, routingKey: string): string {
    const o = this.options;
    const prefix = o.fanoutPrefix === false ? '' : typeof o.fanoutPrefix === 'string' ? o.fanoutPrefix : `/${o.db}.`;
    const suffix = routingKey !== '' && o.fanoutPatterns !== false ? `/${routingKey}` : '';
    return `${o.layout.keyPrefix}${prefix}${exchange}${suffix}`;
  }

  async publish(exchange: ExchangeSpec, routingKey: string, message: BroadcastMessage): Promise<void> {
    const { client, layout, connectionTimeoutMs } = this.options;
    const envelope = buildBroadcastEnvelope(exchange.name, routingKey, message);
    if (exchange.type !== 'direct') {
      await withDeadline(client, connectionTimeoutMs, `publish to ${exchange.name}`, () => client.publish(this.channel(exchange.name, routingKey), envelope));
      return;
    }
    // A direct exchange: the queues bound with this routing key (kombu's _lookup); none bound, nothing sent.
    await withDeadline(client, connectionTimeoutMs, `publish to ${exchange.name}`, async () => {
      const members = await client.smembers(layout.bindingKey(exchange.name));
      const queues = new Set(
        members
          .map((m) => m.split(SEP))
          .filter((parts) => parts.length === 3 && parts[0] === routingKey)
          .map((parts) => parts[2]!),
      );
      if (queues.size === 0) return;
      const m = client.multi();
      for (const q of queues) m.lpush(layout.queueKeyFor(q, 0), envelope);
      await m.exec();
    });
  }

  async subscribe(binding: BroadcastBinding, onMessage: (message: ReceivedBroadcast) => void): Promise<BroadcastSubscription> {
    const { client, layout, connectionTimeoutMs } = this.options;
    const member = `${binding.bindingKey}${SEP}${SEP}${binding.queue}`;
    const bindingKey = layout.bindingKey(binding.exchange.name);
    // Declared like kombu does, so tools that read the binding sets see this queue.
    await withDeadline(client, connectionTimeoutMs, `bind ${binding.queue}`, () => client.sadd(bindingKey, member));
    if (binding.exchange.type === 'direct') {
      const direct = new DirectSubscription(this.options, binding, onMessage, () => this.directs.delete(direct));
      this.directs.add(direct);
      direct.start();
      return direct;
    }
    const pattern = this.channel(binding.exchange.name, binding.bindingKey.replace(/#/g, '*'));
    const sub = await this.patternClient();
    const entry: PatternSubscriber = { onMessage };
    let set = this.patterns.get(pattern);
    if (!set) {
      set = new Set();
      this.patterns.set(pattern, set);
      await sub.psubscribe(pattern);
    }
    set.add(entry);
    return {
      close: async () => {
        const current = this.patterns.get(pattern);
        if (!current?.delete(entry)) return;
        if (current.size === 0) {
          this.patterns.delete(pattern);
          if (sub.status === 'ready') await sub.punsubscribe(pattern).catch(() => {});
        }
        if (client.status === 'ready') await client.srem(bindingKey, member).catch(() => {});
      },
    };
  }

  private async patternClient(): Promise<Redis> {
    if (!this.subscriber) {
      const sub = createClient(this.options.redisOptions, { maxRetriesPerRequest: null }, this.options.log, 'fanout');
      sub.on('pmessage', (pattern: string, _channel: string, raw: string) => {
        const set = this.patterns.get(pattern);
        if (!set || set.size === 0) return;
        let message: ReceivedBroadcast | undefined;
        try {
          message = openBroadcastEnvelope(raw);
        } catch (error) {
          this.options.log.warn({ err: error, pattern }, 'ignored a broadcast message that is not a kombu envelope');
          return;
        }
        if (!message) return;
        for (const s of set) s.onMessage(message);
      });
      this.subscriber = sub;
    }
    await waitReady(this.subscriber, this.options.connectionTimeoutMs, 'subscribe to broadcasts');
    return this.subscriber;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.directs].map((d) => d.close()));
    this.patterns.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }
}

/** A queue bound to a direct exchange, drained with BRPOP on its own connection (a blocking command holds it). */
class DirectSubscription implements BroadcastSubscription {
  private readonly blocking: Redis;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly options: RedisFanoutOptions,
    private readonly binding: BroadcastBinding,
    private readonly onMessage: (message: ReceivedBroadcast) => void,
    private readonly onClose: () => void,
  ) {
    this.blocking = createClient(options.redisOptions, { maxRetriesPerRequest: null }, options.log, 'fanout-reply');
  }

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const keys = this.options.layout.bandKeys(this.binding.queue);
    while (!this.stopped) {
      try {
        await waitReady(this.blocking, Number.POSITIVE_INFINITY, 'read replies');
        if (this.stopped) return;
        // Short timeout: close() waits for the BRPOP in flight.
        const got = await this.blocking.brpop(...keys, 0.2);
        if (!got) continue;
        const message = openBroadcastEnvelope(got[1]);
        if (message) this.onMessage(message);
      } catch (error) {
        if (this.stopped) return;
        this.options.log.warn({ err: error, queue: this.binding.queue }, 'reading a reply queue failed; retrying');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.onClose();
    await this.loop;
    this.blocking.disconnect();
    const { client, layout } = this.options;
    if (client.status !== 'ready') return;
    // As kombu after the reply window: unbind and drop the lists.
    const m = client.multi();
    m.srem(layout.bindingKey(this.binding.exchange.name), `${this.binding.bindingKey}${SEP}${SEP}${this.binding.queue}`);
    m.del(...layout.bandKeys(this.binding.queue));
    await m.exec().catch(() => {});
  }
}
