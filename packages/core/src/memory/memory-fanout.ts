/**
 * Broadcast exchanges for memory:// (see broadcast.ts): subscribers of one
 * virtual host receive what is published to a matching binding, each message
 * copied through JSON as a real transport would, and delivered on a later
 * event-loop turn (never inside `publish`).
 */
import {
  type BroadcastBinding,
  type BroadcastMessage,
  type BroadcastSubscription,
  type ExchangeSpec,
  type Fanout,
  type ReceivedBroadcast,
  topicMatches,
} from '../broadcast.js';
import { parseJson, stringifyJson } from '../json.js';

interface Subscriber {
  binding: BroadcastBinding;
  onMessage: (message: ReceivedBroadcast) => void;
}

/** The subscribers of one memory:// virtual host, shared by every broker on it. */
export class MemoryExchanges {
  readonly subscribers = new Set<Subscriber>();

  deliver(exchange: ExchangeSpec, routingKey: string, message: BroadcastMessage): void {
    const wire = stringifyJson({ body: message.body, headers: message.headers }, 'broadcast message');
    for (const s of this.subscribers) {
      const b = s.binding;
      if (b.exchange.name !== exchange.name) continue;
      if (exchange.type === 'direct' && b.bindingKey !== routingKey) continue;
      if (exchange.type === 'topic' && !topicMatches(b.bindingKey, routingKey)) continue;
      const copy = parseJson(wire, 'broadcast message') as { body: unknown; headers: Record<string, unknown> };
      setImmediate(() => {
        if (this.subscribers.has(s)) s.onMessage({ ...copy, deliveryMode: message.deliveryMode ?? 1, routingKey, exchange: exchange.name });
      });
    }
  }
}

/** One broker's view of the host's exchanges; closing it drops its subscriptions. */
export class MemoryFanout implements Fanout {
  private readonly own = new Set<Subscriber>();

  constructor(private readonly exchanges: MemoryExchanges) {}

  async publish(exchange: ExchangeSpec, routingKey: string, message: BroadcastMessage): Promise<void> {
    this.exchanges.deliver(exchange, routingKey, message);
  }

  async subscribe(binding: BroadcastBinding, onMessage: (message: ReceivedBroadcast) => void): Promise<BroadcastSubscription> {
    const s: Subscriber = { binding, onMessage };
    this.exchanges.subscribers.add(s);
    this.own.add(s);
    return {
      close: async () => {
        this.exchanges.subscribers.delete(s);
        this.own.delete(s);
      },
    };
  }

  async close(): Promise<void> {
    for (const s of this.own) this.exchanges.subscribers.delete(s);
    this.own.clear();
  }
}
