/**
 * Declarations, queue sizes and purges on one "admin" channel. Declared
 * queue names are cached per connection, so each is declared once before its
 * first use; after a reconnect the cache is empty and declarations are
 * replayed before the next publish or consume. A channel closed by the
 * broker (406, 404) is replaced on the next call, never left dead.
 *
 * Queue arguments go through {@link toFieldTable} so `x-max-priority: 10` is a
 * signed int (`I`) as py-amqp sends it: RabbitMQ compares argument types when
 * a queue is declared again, and amqplib alone would send a byte.
 */
import type { Logger } from '@taskq/core';
import type { Channel } from 'amqplib';
import type { AmqpConnection } from './amqp-connection.js';
import { declarationMismatchError, replyCode, toTaskqError } from './amqp-errors.js';
import { type QueueSpec, TASK_EXCHANGE_TYPE } from './celery-topology.js';
import { toFieldTable } from './field-table.js';

export class TopologyManager {
  private admin: { generation: number; channel: Promise<Channel> } | undefined;
  private readonly declared = new Map<string, Promise<void>>();
  /** Names whose declaration completed on this connection (checked without awaiting, on every publish). */
  private readonly done = new Set<string>();

  constructor(
    private readonly connection: AmqpConnection,
    private readonly log: Logger,
    private readonly timeoutMs: () => number,
  ) {
    connection.on('ready', () => {
      this.declared.clear();
      this.done.clear();
    });
  }

  /** Whether `name` is declared on the current connection already (publishing needs no declaration first). */
  isDeclared(name: string): boolean {
    return this.done.has(name);
  }

  /** Declare a queue (and its direct exchange and binding, for task queues) once per connection. */
  declare(spec: QueueSpec): Promise<void> {
    let p = this.declared.get(spec.name);
    if (!p) {
      const declaring = this.doDeclare(spec);
      p = declaring;
      this.declared.set(spec.name, declaring);
      declaring.then(
        () => {
          if (this.declared.get(spec.name) === declaring) this.done.add(spec.name);
        },
        () => {
          if (this.declared.get(spec.name) === declaring) this.declared.delete(spec.name);
        },
      );
    }
    return p;
  }

  /** Forget that a queue was declared (it was deleted, or the broker cancelled its consumers). */
  forget(name: string): void {
    this.declared.delete(name);
    this.done.delete(name);
  }

  /** Messages ready in a queue (not those delivered and unacknowledged); 0 for a queue that does not exist. */
  async messageCount(queue: string): Promise<number> {
    return this.onMissingQueue(0, (ch) => ch.checkQueue(queue).then((ok) => ok.messageCount), `checking queue ${queue}`);
  }

  /** Delete the ready messages of a queue; returns how many. 0 for a queue that does not exist. */
  async purge(queue: string): Promise<number> {
    return this.onMissingQueue(0, (ch) => ch.purgeQueue(queue).then((ok) => ok.messageCount), `purging queue ${queue}`);
  }

  /** Delete a queue and the direct exchange of the same name (test cleanup, `taskq purge --delete`). */
  async deleteQueue(queue: string, withExchange = true): Promise<void> {
    this.forget(queue);
    await this.onMissingQueue(undefined, (ch) => ch.deleteQueue(queue).then(() => undefined), `deleting queue ${queue}`);
    if (withExchange) await this.onMissingQueue(undefined, (ch) => ch.deleteExchange(queue).then(() => undefined), `deleting exchange ${queue}`);
  }

  /** Run `fn` on the admin channel (opened on the live connection, waiting for it up to the connection timeout). */
  async withChannel<T>(fn: (channel: Channel) => Promise<T>, what: string): Promise<T> {
    const channel = await this.channel();
    try {
      return await fn(channel);
    } catch (error) {
      throw toTaskqError(error, what);
    }
  }

  close(): void {
    const admin = this.admin;
    this.admin = undefined;
    admin?.channel.then((ch) => ch.close()).catch(() => {});
  }

  private async onMissingQueue<T>(fallback: T, fn: (channel: Channel) => Promise<T>, what: string): Promise<T> {
    const channel = await this.channel();
    try {
      return await fn(channel);
    } catch (error) {
      if (replyCode(error) === 404) return fallback;
      throw toTaskqError(error, what);
    }
  }

  private async doDeclare(spec: QueueSpec): Promise<void> {
    const channel = await this.channel();
    const what = `declaring queue ${spec.name}`;
    try {
      if (spec.withExchange) await channel.assertExchange(spec.name, TASK_EXCHANGE_TYPE, { durable: true, autoDelete: false });
      await channel.assertQueue(spec.name, { durable: spec.durable, autoDelete: spec.autoDelete, arguments: toFieldTable(spec.arguments, 'arguments') });
      if (spec.withExchange) await channel.bindQueue(spec.name, spec.name, spec.name);
      this.log.debug({ queue: spec.name, arguments: spec.arguments }, 'declared queue');
    } catch (error) {
      if (replyCode(error) === 406 && /QueueDeclare/.test(String((error as Error).message))) throw declarationMismatchError(spec, error);
      throw toTaskqError(error, what);
    }
  }

  private async channel(): Promise<Channel> {
    const model = await this.connection.ready(this.timeoutMs());
    const generation = this.connection.generation;
    if (!this.admin || this.admin.generation !== generation) {
      const channel = model.createChannel().then((ch) => {
        ch.on('error', (error: Error) => this.log.debug({ err: error }, 'AMQP admin channel closed by the broker; it is reopened on next use'));
        ch.on('close', () => {
          if (this.admin?.channel === channel) this.admin = undefined;
        });
        return ch;
      });
      channel.catch(() => {
        if (this.admin?.channel === channel) this.admin = undefined;
      });
      this.admin = { generation, channel };
    }
    return this.admin.channel;
  }
}
