/**
 * Broadcast messaging, as kombu's `Mailbox`/`Node` and the events exchange
 * use it (celery-protocol.md §2.6, §3.1, §5, §6): JSON messages published to
 * named exchanges — fanout (`celery.pidbox`), topic (`celeryev`) and direct
 * (`reply.celery.pidbox`) — rather than to task queues.
 *
 * A transport offers this through the optional {@link Broker.fanout}; each
 * maps it onto its own wire: Redis PUBLISH/PSUBSCRIBE for fanout and topic
 * exchanges and binding-set lookups plus LPUSH/BRPOP for direct ones, AMQP
 * exchanges and queues as Celery declares them, and plain in-process
 * delivery for memory://.
 */

/** An exchange as Celery declares it. */
export interface ExchangeSpec {
  name: string;
  type: 'fanout' | 'topic' | 'direct';
  /** Survives a broker restart (AMQP only). `celeryev` is durable, the pidbox exchanges are not. */
  durable: boolean;
}

/** One broadcast message: a JSON body with its headers. */
export interface BroadcastMessage {
  /** The decoded JSON body. */
  body: unknown;
  headers: Record<string, unknown>;
  /** 2 (persistent) for control requests, 1 (transient) for replies and events. Default 1. */
  deliveryMode?: 1 | 2;
}

/** A message as a subscriber receives it. */
export interface ReceivedBroadcast extends BroadcastMessage {
  /** The routing key it was published with (`worker.heartbeat`, `task.multi`, '' for fanout). */
  routingKey: string;
  exchange: string;
}

/** Where a subscriber listens: a queue bound to an exchange with a binding key. */
export interface BroadcastBinding {
  exchange: ExchangeSpec;
  /**
   * The binding key: '' for fanout exchanges, a topic pattern (`#`,
   * `worker.#`, `task.*`) for topic ones, the exact routing key for direct ones.
   */
  bindingKey: string;
  /** The queue's name (`<nodename>.celery.pidbox`, `<oid>.reply.celery.pidbox`, `celeryev.<uuid>`). */
  queue: string;
  /** AMQP queue arguments (`x-message-ttl`, `x-expires`), as Celery declares the queue. */
  queueArguments?: Record<string, unknown>;
}

/** An active subscription; `close()` stops it and removes what it declared where the transport must (reply queues on Redis). */
export interface BroadcastSubscription {
  close(): Promise<void>;
}

/** The broadcast side of a transport. */
export interface Fanout {
  /**
   * Publish to an exchange. Fanout and topic exchanges reach every current
   * subscriber whose binding matches (fire-and-forget: nobody listening, no
   * delivery); direct exchanges reach the queues bound with that routing key.
   */
  publish(exchange: ExchangeSpec, routingKey: string, message: BroadcastMessage): Promise<void>;
  /** Listen on a binding; `onMessage` is called for each message (no acknowledgement: Celery's pidbox and event consumers use no_ack). */
  subscribe(binding: BroadcastBinding, onMessage: (message: ReceivedBroadcast) => void): Promise<BroadcastSubscription>;
  /** Close the transport's broadcast connections and every subscription. */
  close(): Promise<void>;
}

/**
 * Whether a routing key matches an AMQP topic binding key: words are
 * separated by dots, `*` matches exactly one word and `#` zero or more.
 */
export function topicMatches(bindingKey: string, routingKey: string): boolean {
  if (bindingKey === '#') return true;
  const pattern = bindingKey.split('.');
  const words = routingKey.split('.');
  const match = (p: number, w: number): boolean => {
    if (p === pattern.length) return w === words.length;
    const part = pattern[p];
    if (part === '#') {
      for (let i = w; i <= words.length; i++) if (match(p + 1, i)) return true;
      return false;
    }
    if (w === words.length) return false;
    return (part === '*' || part === words[w]) && match(p + 1, w + 1);
  };
  return match(0, 0);
}
