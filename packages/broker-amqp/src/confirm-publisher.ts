/**
 * Publishing with publisher confirms on one ConfirmChannel. `publish()`
 * resolves only once RabbitMQ confirmed the message (for a persistent message
 * to a durable queue: written to disk). A nack, or a `basic.return` of a
 * mandatory message nobody could route, rejects with a BrokerChannelError.
 *
 * When the channel or connection goes away before the confirm arrives the
 * message may or may not have reached the broker; it is published again on
 * the next connection (at-least-once, never silently lost) until the
 * deadline, after which the caller gets a BrokerConnectionError.
 */
import { BrokerChannelError, BrokerConnectionError, isTaskqError, type Logger } from '@taskq/core';
import type { ConfirmChannel, Message, Options } from 'amqplib';
import type { AmqpConnection } from './amqp-connection.js';
import { isConnectionLoss, toTaskqError } from './amqp-errors.js';

interface Pending {
  exchange: string;
  routingKey: string;
  correlationId: string | undefined;
  returned: string | undefined;
}

export interface PublishTarget {
  exchange: string;
  routingKey: string;
  /** Ask the broker to return the message when no queue is bound for it (default true). */
  mandatory?: boolean;
}

interface OpenChannel {
  generation: number;
  channel: Promise<ConfirmChannel>;
  /** The channel once open (the fast path publishes on it without awaiting anything). */
  live: ConfirmChannel | undefined;
  pending: Set<Pending>;
  drained: Promise<void> | undefined;
  /** Why the broker closed the channel (404 unknown exchange…), to tell a refusal from a connection loss. */
  closeError: Error | undefined;
}

export class ConfirmPublisher {
  private current: OpenChannel | undefined;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly log: Logger,
    private readonly timeoutMs: () => number,
  ) {}

  /**
   * Publish and wait for the broker's confirm. `prepare` runs on every
   * attempt before the publish (queue declarations, replayed after a reconnect).
   */
  async publish(target: PublishTarget, content: Buffer, options: Options.Publish, prepare?: () => Promise<void>): Promise<void> {
    // Fast path (nothing to declare, channel open, no back-pressure): publish in this turn, await only the confirm.
    const open = prepare ? undefined : this.current;
    if (open?.live && !open.drained && open.closeError === undefined && open.generation === this.connection.generation && this.connection.isConnected) {
      try {
        await this.send(open, open.live, target, content, options);
        return;
      } catch (error) {
        if (!isConnectionLoss(error)) throw toTaskqError(error, `publishing to ${describe(target)}`);
        // Lost with the connection: the loop below publishes it again once it is back.
      }
    }
    const deadline = Date.now() + this.timeoutMs();
    for (let attempt = 1; ; attempt++) {
      try {
        if (prepare) await prepare();
        const open = await this.channel(Math.max(1, deadline - Date.now()));
        await this.publishOn(open, target, content, options);
        return;
      } catch (error) {
        if (!isConnectionLoss(error)) throw toTaskqError(error, `publishing to ${describe(target)}`);
        if (Date.now() >= deadline) {
          throw isTaskqError(error)
            ? error
            : new BrokerConnectionError(
                `could not publish to ${describe(target)}: the RabbitMQ connection was lost and not restored within ${this.timeoutMs()} ms (broker_connection_timeout)`,
                { cause: error },
              );
        }
        this.log.debug({ err: error, attempt, target: describe(target) }, 'publish interrupted by a connection loss; publishing again');
        // Let the connection notice the loss before trying again.
        await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 1000)));
      }
    }
  }

  close(): void {
    const open = this.current;
    this.current = undefined;
    open?.channel.then((ch) => ch.close()).catch(() => {});
  }

  private async publishOn(open: OpenChannel, target: PublishTarget, content: Buffer, options: Options.Publish): Promise<void> {
    const channel = await open.channel;
    if (open.drained) await open.drained;
    await this.send(open, channel, target, content, options);
  }

  /** Publish on an open channel; resolves on the broker's confirm. `options` is the caller's own object (mandatory is set on it). */
  private send(open: OpenChannel, channel: ConfirmChannel, target: PublishTarget, content: Buffer, options: Options.Publish): Promise<void> {
    options.mandatory = target.mandatory ?? true;
    const entry: Pending = { exchange: target.exchange, routingKey: target.routingKey, correlationId: options.correlationId, returned: undefined };
    return new Promise<void>((resolve, reject) => {
      open.pending.add(entry);
      const written = channel.publish(target.exchange, target.routingKey, content, options, (error) => {
        open.pending.delete(entry);
        if (error) {
          if (/nacked/.test(String(error.message))) {
            reject(new BrokerChannelError(`RabbitMQ refused (nacked) the message to ${describe(target)}: it was not stored; check the queue's limits (x-max-length, disk alarms) and the broker log`));
          } else reject(open.closeError ?? error);
        } else if (entry.returned !== undefined) {
          reject(
            new BrokerChannelError(
              `RabbitMQ could not route the message to ${describe(target)} (${entry.returned}): no queue is bound for routing key ${JSON.stringify(target.routingKey)}${target.exchange === '' ? ` — queue ${JSON.stringify(target.routingKey)} does not exist` : ` on exchange ${JSON.stringify(target.exchange)}`}; declare the queue (or binding) first`,
            ),
          );
        } else resolve();
      });
      if (!written && !open.drained) {
        // Back-pressure: the socket buffer is full; later publishes wait for 'drain'.
        open.drained = new Promise<void>((r) => channel.once('drain', () => r())).finally(() => {
          open.drained = undefined;
        });
      }
    });
  }

  private async channel(timeoutMs: number): Promise<OpenChannel> {
    const model = await this.connection.ready(timeoutMs);
    const generation = this.connection.generation;
    if (!this.current || this.current.generation !== generation) {
      const pending = new Set<Pending>();
      const channel = model.createConfirmChannel().then((ch) => {
        ch.on('error', (error: Error) => {
          if (this.current?.channel === channel) this.current.closeError = error;
          this.log.warn({ err: error }, 'AMQP publish channel closed by the broker; it is reopened on next publish');
        });
        ch.on('close', () => {
          if (this.current?.channel === channel) this.current = undefined;
        });
        // RabbitMQ sends basic.return before the basic.ack of the same message, so the confirm callback sees it.
        ch.on('return', (msg: Message) => {
          const f = msg.fields as unknown as { exchange: string; routingKey: string; replyText?: string; replyCode?: number };
          for (const p of pending) {
            if (p.returned === undefined && p.exchange === f.exchange && p.routingKey === f.routingKey && p.correlationId === msg.properties.correlationId) {
              p.returned = `${f.replyCode ?? 312} ${f.replyText ?? 'NO_ROUTE'}`;
              break;
            }
          }
        });
        if (this.current?.channel === channel) this.current.live = ch;
        return ch;
      });
      channel.catch(() => {
        if (this.current?.channel === channel) this.current = undefined;
      });
      this.current = { generation, channel, live: undefined, pending, drained: undefined, closeError: undefined };
    }
    const open = this.current;
    try {
      await open.channel;
    } catch (error) {
      throw toTaskqError(error, 'opening a publish channel');
    }
    return open;
  }
}

function describe(target: PublishTarget): string {
  return target.exchange === '' ? `queue ${JSON.stringify(target.routingKey)}` : `exchange ${JSON.stringify(target.exchange)} with routing key ${JSON.stringify(target.routingKey)}`;
}
