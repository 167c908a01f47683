/**
 * Broker URLs the way kombu reads them: `amqp://user:pass@host:port/vhost`,
 * `//` meaning the vhost `/`, `?heartbeat=` in seconds, and a `;`-separated
 * list of URLs for failover (`amqp://h1;amqp://h2`), tried in order.
 */
import { ConfigError, redactUrl } from '@taskq/core';

/** One broker endpoint, ready for amqplib's `connect()`. */
export interface AmqpEndpoint {
  protocol: 'amqp' | 'amqps';
  hostname: string;
  port: number;
  username: string;
  password: string;
  vhost: string;
  /** Seconds between heartbeats; 0 turns them off. */
  heartbeat: number;
  /** The URL with its password masked, for logs. */
  displayUrl: string;
}

/** Celery's default `broker_heartbeat` (seconds). */
export const DEFAULT_HEARTBEAT_SECONDS = 60;

const SCHEMES: Record<string, 'amqp' | 'amqps'> = { amqp: 'amqp', pyamqp: 'amqp', amqps: 'amqps' };

/** Parse a URL or a `;`-separated list of URLs into endpoints, in failover order. */
export function parseAmqpUrls(urls: string): AmqpEndpoint[] {
  const parts = urls
    .split(';')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  if (parts.length === 0) throw new ConfigError('empty AMQP broker URL; use e.g. amqp://guest:guest@localhost:5672//');
  return parts.map(parseAmqpUrl);
}

/** Parse one `amqp://`, `amqps://` or `pyamqp://` URL. */
export function parseAmqpUrl(raw: string): AmqpEndpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new ConfigError(`${JSON.stringify(redactUrl(raw))} is not a valid AMQP URL; use amqp://user:pass@host:5672/vhost`, { cause: error });
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  const protocol = SCHEMES[scheme];
  if (!protocol) throw new ConfigError(`${scheme}:// is not an AMQP URL; use amqp://, amqps:// or pyamqp://`);
  // kombu: drop the leading "/" of the path; what is left is the vhost ("//" → "/"), empty → "/".
  const path = url.pathname.startsWith('/') ? url.pathname.slice(1) : url.pathname;
  const vhost = path === '' ? '/' : decodeURIComponent(path);
  const heartbeatParam = url.searchParams.get('heartbeat');
  const heartbeat = heartbeatParam === null ? DEFAULT_HEARTBEAT_SECONDS : Number(heartbeatParam);
  if (!Number.isFinite(heartbeat) || heartbeat < 0) {
    throw new ConfigError(`heartbeat=${JSON.stringify(heartbeatParam)} in the broker URL is not a number of seconds (0 turns heartbeats off)`);
  }
  const port = url.port === '' ? (protocol === 'amqps' ? 5671 : 5672) : Number(url.port);
  return {
    protocol,
    hostname: (url.hostname || 'localhost').replace(/^\[(.*)\]$/, '$1'),
    port,
    username: url.username === '' ? 'guest' : decodeURIComponent(url.username),
    password: url.password === '' ? 'guest' : decodeURIComponent(url.password),
    vhost,
    heartbeat,
    displayUrl: redactUrl(raw),
  };
}
