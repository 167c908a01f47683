/**
 * Celery's remote-control mailbox ("pidbox", celery-protocol.md §5): the
 * exchanges and queues it uses and the request/reply bodies, as kombu's
 * `Mailbox` writes them. Transports carry these as {@link BroadcastMessage}s.
 */
import { randomUUID } from 'node:crypto';
import type { BroadcastBinding, BroadcastMessage, ExchangeSpec } from '../broadcast.js';

/** The fanout exchange control requests go to (non-durable, as Celery declares it). */
export const PIDBOX_EXCHANGE: ExchangeSpec = Object.freeze({ name: 'celery.pidbox', type: 'fanout', durable: false });
/** The direct exchange replies go to, routed by the client's oid. */
export const REPLY_EXCHANGE: ExchangeSpec = Object.freeze({ name: 'reply.celery.pidbox', type: 'direct', durable: false });
/** Arguments of pidbox and reply queues on AMQP (§3.1): messages live 5 min, an unused queue 10 s. */
export const PIDBOX_QUEUE_ARGUMENTS: Readonly<Record<string, unknown>> = Object.freeze({ 'x-message-ttl': 300_000, 'x-expires': 10_000 });

/** The binding a worker listens on: `<nodename>.celery.pidbox` bound to `celery.pidbox`. */
export function nodeBinding(nodename: string): BroadcastBinding {
  return { exchange: PIDBOX_EXCHANGE, bindingKey: '', queue: `${nodename}.celery.pidbox`, queueArguments: { ...PIDBOX_QUEUE_ARGUMENTS } };
}

/** The binding a control client collects replies on: `<oid>.reply.celery.pidbox` bound with key `<oid>`. */
export function replyBinding(oid: string): BroadcastBinding {
  return { exchange: REPLY_EXCHANGE, bindingKey: oid, queue: `${oid}.reply.celery.pidbox`, queueArguments: { ...PIDBOX_QUEUE_ARGUMENTS } };
}

/** The body of a control request. */
export interface ControlRequest {
  method: string;
  arguments: Record<string, unknown>;
  /** Node names that should act on it; null = every node. */
  destination: string[] | null;
  pattern: string | null;
  matcher: string | null;
  /** Present when a reply is wanted. */
  ticket?: string;
  reply_to?: { exchange: string; routing_key: string };
}

/**
 * Kombu's Lamport clock: `forward()` before sending, `adjust(other)` on
 * receipt, so `clock` headers order events across nodes.
 */
export class LamportClock {
  private value = 0;

  get current(): number {
    return this.value;
  }

  forward(): number {
    this.value += 1;
    return this.value;
  }

  adjust(other: unknown): number {
    const n = typeof other === 'number' ? other : typeof other === 'string' ? Number(other) : Number.NaN;
    if (Number.isFinite(n)) this.value = Math.max(this.value, n);
    this.value += 1;
    return this.value;
  }
}

/** What {@link buildControlRequest} needs. */
export interface ControlRequestInit {
  method: string;
  arguments?: Record<string, unknown>;
  destination?: readonly string[] | null;
  pattern?: string | null;
  matcher?: string | null;
  /** The client's oid: set when replies are wanted. */
  replyTo?: string;
  ticket?: string;
  /** Seconds the request is valid for (header `expires` = now + timeout; 0 = none). */
  timeout?: number;
  clock: number;
}

/** A request as kombu's `Mailbox._broadcast` publishes it. */
export function buildControlRequest(init: ControlRequestInit): { message: BroadcastMessage; ticket: string | undefined } {
  const body: ControlRequest = {
    method: init.method,
    arguments: init.arguments ?? {},
    destination: init.destination ? [...init.destination] : null,
    pattern: init.pattern ?? null,
    matcher: init.matcher ?? null,
  };
  let ticket: string | undefined;
  if (init.replyTo !== undefined) {
    ticket = init.ticket ?? randomUUID();
    body.ticket = ticket;
    body.reply_to = { exchange: REPLY_EXCHANGE.name, routing_key: init.replyTo };
  }
  const expires = init.timeout ? Date.now() / 1000 + init.timeout : 0;
  return { message: { body, headers: { clock: init.clock, expires }, deliveryMode: 2 }, ticket };
}

/** Read a request body; undefined when it is not a pidbox request (no method). */
export function parseControlRequest(body: unknown): ControlRequest | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.method !== 'string' || b.method === '') return undefined;
  const args = b.arguments !== null && typeof b.arguments === 'object' && !Array.isArray(b.arguments) ? (b.arguments as Record<string, unknown>) : {};
  const destination = Array.isArray(b.destination) ? b.destination.filter((d): d is string => typeof d === 'string') : typeof b.destination === 'string' ? [b.destination] : null;
  const request: ControlRequest = {
    method: b.method,
    arguments: args,
    destination,
    pattern: typeof b.pattern === 'string' ? b.pattern : null,
    matcher: typeof b.matcher === 'string' ? b.matcher : null,
  };
  const replyTo = b.reply_to as { exchange?: unknown; routing_key?: unknown } | null | undefined;
  if (typeof b.ticket === 'string' && replyTo && typeof replyTo.routing_key === 'string') {
    request.ticket = b.ticket;
    request.reply_to = { exchange: typeof replyTo.exchange === 'string' ? replyTo.exchange : REPLY_EXCHANGE.name, routing_key: replyTo.routing_key };
  }
  return request;
}

/**
 * Whether a node should handle a request (kombu's `Node.handle_message`):
 * no destination means all; a `pattern` with the `glob` or `pcre` matcher
 * selects by name.
 */
export function isForNode(request: ControlRequest, nodename: string): boolean {
  if (request.destination && request.destination.length > 0) return request.destination.includes(nodename);
  if (request.pattern) {
    if (request.matcher === 'pcre') {
      try {
        return new RegExp(request.pattern).test(nodename);
      } catch {
        return false;
      }
    }
    return globToRegExp(request.pattern).test(nodename);
  }
  return true;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** A reply as a node sends it: `{"<nodename>": reply}` with the request's ticket. */
export function buildControlReply(nodename: string, reply: unknown, ticket: string, clock: number): BroadcastMessage {
  return { body: { [nodename]: reply }, headers: { ticket, clock }, deliveryMode: 1 };
}
