/**
 * The contract every transport implements. High-level operations only, no
 * driver types: the transport owns its connections.
 */
import type { Fanout } from './broadcast.js';
import type { DecodeError, SerializationError } from './errors.js';
import type { TaskMessage } from './message.js';

/** What a transport can do; the worker and the conformance suite branch on these, not on class names. */
export interface BrokerCapabilities {
  /** Messages are delivered by priority (see `priorityOrder`). */
  priority: boolean;
  /**
   * Which end of 0–9 is delivered first: on Redis (kombu) and memory:// it is
   * 0, on RabbitMQ it is 9 — the transports keep Celery's wire semantics.
   */
  priorityOrder: 'lowest-first' | 'highest-first';
  /** Broadcast (fanout) exchanges for control and events. */
  fanout: boolean;
  /** The broker itself holds messages until a delivery time (taskq's worker holds eta tasks otherwise). */
  delayedDelivery: boolean;
  /** Acknowledgements are native to the broker (AMQP) rather than emulated (Redis). */
  nativeAck: boolean;
}

/** Where a task message goes. With only `queue`, it is published to that queue directly (Celery's default). */
export interface PublishRoute {
  queue: string;
  exchange?: string;
  routingKey?: string;
}

/** One message handed to a consumer. Exactly one of `ack()` or `reject()` should be called. */
export interface Delivery {
  readonly message: TaskMessage;
  /** The queue the message was taken from. */
  readonly queue: string;
  /** True when the message was delivered before and not acknowledged (consumer lost, requeued). */
  readonly redelivered: boolean;
  /** Done with the message: the broker forgets it. */
  ack(): Promise<void>;
  /** Give the message up: back to its queue with `requeue`, otherwise dropped (dead-lettered where the transport has it). */
  reject(requeue: boolean): Promise<void>;
}

/** Reported when a queue held something that is not a valid task message; the transport has dead-lettered it. */
export interface InvalidMessage {
  queue: string;
  error: DecodeError | SerializationError;
  /** Where the message was moved to (e.g. the dead-letter list), for the log line. */
  deadLetteredTo: string;
  /** The first bytes of the raw message, for the log line. */
  preview: string;
}

export interface ConsumeOptions {
  /** How many unacknowledged messages the consumer may hold at once. */
  prefetch: number;
  /** Called after a malformed message was dead-lettered (never delivered to `onDelivery`). */
  onInvalid?: (invalid: InvalidMessage) => void;
}

export interface Consumer {
  readonly queues: readonly string[];
  /** Change how many unacknowledged messages the consumer may hold. */
  setPrefetch(prefetch: number): void;
  /** Stop receiving new messages; deliveries already handed out stay valid (ack/reject them). */
  stop(): Promise<void>;
  /** Go away: stop, and return every delivery not yet acknowledged to its queue, marked redelivered. */
  close(): Promise<void>;
}

/** A message broker: Redis, RabbitMQ, or the embedded memory:// one. */
export interface Broker {
  /** Short transport name: 'memory', 'redis', 'amqp'. */
  readonly transport: string;
  /** The broker URL with any password masked, for logs and banners. */
  readonly displayUrl: string;
  readonly capabilities: BrokerCapabilities;
  connect(): Promise<void>;
  /** Close connections; unacknowledged deliveries of this broker's consumers go back to their queues. */
  close(): Promise<void>;
  /** Resolves once the broker holds the message. Throws EncodeError (nothing sent) or a broker error. */
  publish(message: TaskMessage, route: PublishRoute): Promise<void>;
  /**
   * Optional: publish many messages in one go (a pipeline), for `app.sendMany`.
   * Resolves once the broker holds all of them. Without it, the app publishes
   * them one by one, concurrently.
   */
  publishMany?(items: ReadonlyArray<{ message: TaskMessage; route: PublishRoute }>): Promise<void>;
  consume(queues: readonly string[], onDelivery: (delivery: Delivery) => void, options: ConsumeOptions): Promise<Consumer>;
  /** Delete every waiting message of a queue; returns how many were deleted. */
  purge(queue: string): Promise<number>;
  /** Number of messages waiting in a queue (all priority bands). */
  queueSize(queue: string): Promise<number>;
  /**
   * Optional: the broadcast side of the transport (fanout, topic and direct
   * exchanges), for remote control and events; see broadcast.ts. Made on
   * first use, closed with the broker.
   */
  fanout?(): Fanout;
}
