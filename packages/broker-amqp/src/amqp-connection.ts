/**
 * One AMQP connection that comes back: connects to the first reachable
 * endpoint of the failover list, and when the connection is lost (broker
 * restart, network, heartbeat timeout) reconnects with capped exponential
 * backoff until closed. Users of the connection listen to `ready` to reopen
 * their channels; `generation` tells a channel of the old connection from
 * one of the new.
 */
import { EventEmitter } from 'node:events';
import { BrokerConnectionError, type Logger } from '@taskq/core';
import amqp, { type ChannelModel } from 'amqplib';
import type { AmqpEndpoint } from './amqp-url.js';

export interface ReconnectOptions {
  /** First delay after a loss, ms (default 100). */
  initialDelayMs: number;
  /** Longest delay between attempts, ms (default 5000). */
  maxDelayMs: number;
}

export interface AmqpConnectionOptions {
  endpoints: readonly AmqpEndpoint[];
  log: Logger;
  reconnect?: Partial<ReconnectOptions>;
  /** Extra socket options for amqplib (TLS: `ca`, `cert`, `key`, `servername`…). */
  socketOptions?: Record<string, unknown>;
  /** Shown in RabbitMQ's management UI / `rabbitmqctl list_connections client_properties`. */
  connectionName?: string;
}

interface Events {
  ready: [model: ChannelModel, generation: number];
  lost: [error: Error | undefined];
}

export class AmqpConnection extends EventEmitter<Events> {
  private model: ChannelModel | undefined;
  private connecting: Promise<ChannelModel> | undefined;
  private closed = false;
  private endpointIndex = 0;
  private readonly reconnect: ReconnectOptions;
  /** Incremented on every new connection. */
  generation = 0;

  constructor(private readonly options: AmqpConnectionOptions) {
    super();
    this.setMaxListeners(0);
    this.reconnect = { initialDelayMs: 100, maxDelayMs: 5000, ...options.reconnect };
  }

  /** The endpoint currently (or last) in use. */
  get endpoint(): AmqpEndpoint {
    return this.options.endpoints[this.endpointIndex]!;
  }

  /** The local TCP port of the live connection (matches `peer_port` in `rabbitmqctl list_connections`). */
  get localPort(): number | undefined {
    return (this.model?.connection as unknown as { stream?: { localPort?: number } } | undefined)?.stream?.localPort;
  }

  get isConnected(): boolean {
    return this.model !== undefined;
  }

  /** Connect once to the first reachable endpoint; throws BrokerConnectionError when none is reachable. */
  async connect(): Promise<ChannelModel> {
    if (this.model) return this.model;
    if (this.closed) throw new BrokerConnectionError('the AMQP connection was closed; create a new broker');
    this.connecting ??= this.tryEndpoints().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /**
   * The live connection, waiting up to `timeoutMs` for it while reconnecting
   * (starting a reconnect loop if none runs). Throws BrokerConnectionError after.
   */
  async ready(timeoutMs: number): Promise<ChannelModel> {
    if (this.model) return this.model;
    if (this.closed) throw new BrokerConnectionError('the AMQP connection was closed; create a new broker');
    this.startReconnecting();
    return new Promise<ChannelModel>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ready', onReady);
        reject(
          new BrokerConnectionError(
            `RabbitMQ at ${this.describeEndpoints()} was not reachable within ${timeoutMs} ms (broker_connection_timeout); check that it runs and the URL, or raise brokerConnectionTimeout`,
          ),
        );
      }, timeoutMs);
      const onReady = (model: ChannelModel): void => {
        clearTimeout(timer);
        resolve(model);
      };
      this.once('ready', onReady);
    });
  }

  /** Stop reconnecting and close the connection. */
  async close(): Promise<void> {
    this.closed = true;
    const model = this.model;
    this.model = undefined;
    if (model) await model.close().catch(() => {});
  }

  /** Drop the current connection as if it was lost (tests, or after a fatal channel state). */
  destroy(): void {
    const model = this.model;
    if (model) (model.connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
  }

  private describeEndpoints(): string {
    return this.options.endpoints.map((e) => e.displayUrl).join(';');
  }

  private async tryEndpoints(): Promise<ChannelModel> {
    const { endpoints } = this.options;
    let lastError: unknown;
    for (let i = 0; i < endpoints.length; i++) {
      const index = (this.endpointIndex + i) % endpoints.length;
      const e = endpoints[index]!;
      try {
        const model = await amqp.connect(
          {
            protocol: e.protocol,
            hostname: e.hostname,
            port: e.port,
            username: e.username,
            password: e.password,
            vhost: e.vhost,
            heartbeat: e.heartbeat,
          },
          // TCP_NODELAY as py-amqp sets it: acks and publishes are small frames that Nagle would hold back.
          { noDelay: true, ...this.options.socketOptions, clientProperties: { connection_name: this.options.connectionName ?? 'taskq' } },
        );
        if (this.closed) {
          await model.close().catch(() => {});
          throw new BrokerConnectionError('the AMQP connection was closed while connecting');
        }
        this.endpointIndex = index;
        coalesceWrites(model);
        this.adopt(model);
        return model;
      } catch (error) {
        lastError = error;
        this.options.log.debug({ err: error, broker: e.displayUrl }, 'AMQP connect failed');
      }
    }
    throw new BrokerConnectionError(
      `cannot connect to RabbitMQ at ${this.describeEndpoints()}: ${(lastError as Error)?.message ?? lastError}; check that RabbitMQ runs, the host/port/vhost and the credentials`,
      { cause: lastError },
    );
  }

  private adopt(model: ChannelModel): void {
    this.model = model;
    this.generation++;
    const generation = this.generation;
    model.on('error', (error: Error) => {
      this.options.log.warn({ err: error, broker: this.endpoint.displayUrl }, 'AMQP connection error');
    });
    model.on('close', (error?: Error) => {
      if (this.model !== model) return;
      this.model = undefined;
      if (this.closed) return;
      this.options.log.warn({ err: error, broker: this.endpoint.displayUrl }, 'AMQP connection lost; reconnecting');
      this.emit('lost', error);
      this.startReconnecting();
    });
    this.options.log.debug({ broker: this.endpoint.displayUrl, generation }, 'AMQP connected');
    this.emit('ready', model, generation);
  }

  private reconnecting = false;

  private startReconnecting(): void {
    if (this.reconnecting || this.closed || this.model) return;
    this.reconnecting = true;
    void (async () => {
      let delay = this.reconnect.initialDelayMs;
      try {
        while (!this.closed && !this.model) {
          try {
            await this.connect();
            this.options.log.info({ broker: this.endpoint.displayUrl }, 'AMQP connection restored');
            return;
          } catch {
            // Each failed round tries the next endpoint first (failover), then waits.
            this.endpointIndex = (this.endpointIndex + 1) % this.options.endpoints.length;
            await new Promise((r) => setTimeout(r, delay * (0.8 + Math.random() * 0.4)));
            delay = Math.min(delay * 2, this.reconnect.maxDelayMs);
          }
        }
      } finally {
        this.reconnecting = false;
      }
    })();
  }
}

/**
 * amqplib hands the frames of all channels to the socket in one pass of its
 * multiplexer (on setImmediate), but as one socket write each: a publish, an
 * ack, a confirm-awaiting reply each cost a write system call. Corking the
 * socket for the pass sends them as one writev. It reaches into amqplib's
 * connection (`connection.muxer`, `connection.stream`, stable since 0.5); when
 * those are not there, nothing changes.
 */
function coalesceWrites(model: ChannelModel): void {
  const connection = (model as unknown as { connection?: { muxer?: { _readIncoming?: () => void }; stream?: { cork?: () => void; uncork?: () => void } } }).connection;
  const mux = connection?.muxer;
  const stream = connection?.stream;
  const readIncoming = mux?._readIncoming;
  if (!mux || typeof readIncoming !== 'function' || typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return;
  mux._readIncoming = function (this: unknown) {
    stream.cork!();
    try {
      readIncoming.call(mux);
    } finally {
      stream.uncork!();
    }
  };
}
