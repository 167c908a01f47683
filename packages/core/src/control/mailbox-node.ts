/**
 * The worker's end of the remote-control mailbox (kombu's `pidbox.Node`):
 * listen on `celery.pidbox`, keep the requests addressed to this node, run
 * the matching handler and reply `{"<nodename>": reply}` to the client's
 * reply queue with the request's ticket.
 */
import type { BroadcastSubscription, Fanout, ReceivedBroadcast } from '../broadcast.js';
import type { Logger } from '../logger.js';
import { buildControlReply, isForNode, LamportClock, nodeBinding, parseControlRequest, REPLY_EXCHANGE } from './pidbox.js';

/** A handler's return value that means "send no reply" (Celery's `shutdown` answers nothing). */
export const NO_REPLY: unique symbol = Symbol('taskq.control.noReply');

/** A control command: takes the request's `arguments`, returns the reply value (JSON). */
export type ControlHandler = (args: Record<string, unknown>) => unknown | Promise<unknown>;

export interface MailboxNodeOptions {
  nodename: string;
  fanout: Fanout;
  handlers: Readonly<Record<string, ControlHandler>>;
  log: Logger;
  /** The node's Lamport clock (shared with its event dispatcher). */
  clock?: LamportClock;
}

/** A node listening on the mailbox. `start()` subscribes; `stop()` unsubscribes. */
export class MailboxNode {
  readonly clock: LamportClock;
  private subscription: BroadcastSubscription | undefined;

  constructor(private readonly options: MailboxNodeOptions) {
    this.clock = options.clock ?? new LamportClock();
  }

  async start(): Promise<void> {
    this.subscription = await this.options.fanout.subscribe(nodeBinding(this.options.nodename), (m) => void this.handle(m));
  }

  async stop(): Promise<void> {
    const s = this.subscription;
    this.subscription = undefined;
    await s?.close();
  }

  /** Handle one request (exposed for tests): dispatch, then reply when a ticket asks for one. */
  async handle(message: ReceivedBroadcast): Promise<void> {
    const { nodename, handlers, log } = this.options;
    const request = parseControlRequest(message.body);
    if (!request) {
      log.warn({ body: message.body }, 'ignored a mailbox message that is not a control request');
      return;
    }
    this.clock.adjust(message.headers.clock);
    if (!isForNode(request, nodename)) return;
    log.debug({ method: request.method, arguments: request.arguments }, `pidbox received method ${request.method}`);
    let reply: unknown;
    const handler = Object.hasOwn(handlers, request.method) ? handlers[request.method] : undefined;
    if (!handler) {
      // kombu answers an unknown command with the KeyError it raised.
      reply = { error: `KeyError('${request.method}')` };
    } else {
      try {
        reply = await handler(request.arguments);
      } catch (error) {
        log.error({ err: error, method: request.method }, `pidbox command error: ${request.method}`);
        reply = { error: error instanceof Error ? `${error.name}(${JSON.stringify(error.message)})` : String(error) };
      }
    }
    if (reply === NO_REPLY || !request.ticket || !request.reply_to) return;
    try {
      const exchange = request.reply_to.exchange === REPLY_EXCHANGE.name ? REPLY_EXCHANGE : { ...REPLY_EXCHANGE, name: request.reply_to.exchange };
      await this.options.fanout.publish(exchange, request.reply_to.routing_key, buildControlReply(nodename, reply ?? null, request.ticket, this.clock.forward()));
    } catch (error) {
      log.warn({ err: error, method: request.method }, `could not send the reply to ${request.method}`);
    }
  }
}
