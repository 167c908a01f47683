/**
 * kombu's JSON envelope (celery-protocol.md §2.1): the one string stored per
 * message in a Redis list. Building and reading it is the only place this
 * package touches message bytes; the task message itself goes through core's
 * codec (`toWireMessage` / `fromWireMessage`).
 */
import { randomUUID } from 'node:crypto';
import { compactHeaders, DecodeError, fromWireMessage, parseJson, setOwn, stringifyJson, type TaskMessage, toWireMessage } from '@taskq/core';

/** The envelope as kombu writes it (keys in kombu's order). */
export interface KombuEnvelope {
  body: string;
  'content-encoding': string;
  'content-type': string;
  headers: Record<string, unknown>;
  properties: Record<string, unknown> & {
    delivery_info: { exchange: string; routing_key: string; [k: string]: unknown };
    delivery_tag: string;
  };
}

/** Properties this transport owns; any stale copy carried by a re-published message is replaced. */
const TRANSPORT_PROPERTIES = new Set(['correlation_id', 'reply_to', 'delivery_mode', 'expiration', 'delivery_info', 'priority', 'body_encoding', 'delivery_tag']);

/**
 * Build the envelope of a task message published to `routingKey` through
 * `exchange` ('' = straight to the queue). `compact` leaves out null headers
 * (the transport option `compact_headers`, see transport-options.ts).
 */
export function buildEnvelope(message: TaskMessage, routingKey: string, exchange = '', compact = false): { envelope: string; deliveryTag: string } {
  const wire = toWireMessage(message);
  const p = wire.properties;
  const extra: Record<string, unknown> = {};
  for (const k in p) if (!TRANSPORT_PROPERTIES.has(k)) setOwn(extra, k, p[k]);
  const deliveryTag = randomUUID();
  const properties: Record<string, unknown> = { correlation_id: p.correlation_id };
  if (p.reply_to !== undefined && p.reply_to !== null) properties.reply_to = p.reply_to;
  properties.delivery_mode = typeof p.delivery_mode === 'number' ? p.delivery_mode : 2;
  if (p.expiration !== undefined && p.expiration !== null) properties.expiration = String(p.expiration);
  Object.assign(properties, extra);
  properties.delivery_info = { exchange, routing_key: routingKey };
  // kombu always writes a priority; absent means 0 on both sides.
  properties.priority = typeof p.priority === 'number' && Number.isFinite(p.priority) ? p.priority : 0;
  properties.body_encoding = 'base64';
  properties.delivery_tag = deliveryTag;
  const envelope = {
    body: Buffer.from(wire.body, 'utf8').toString('base64'),
    'content-encoding': wire.contentEncoding ?? 'utf-8',
    'content-type': wire.contentType ?? 'application/json',
    headers: compact ? compactHeaders(wire.headers) : wire.headers,
    properties,
  };
  return { envelope: envelopeJson(envelope), deliveryTag };
}

/**
 * The envelope's JSON text. Its parts were checked before (the body is
 * already text; arguments and headers are checked when a task is sent), so
 * it goes straight to JSON.stringify; only what that refuses (a bigint from a
 * decoded Python header, say) takes core's checked, bigint-safe path.
 */
function envelopeJson(envelope: object): string {
  try {
    return JSON.stringify(envelope);
  } catch {
    return stringifyJson(envelope, 'message envelope');
  }
}

/** Properties of the envelope that belong to kombu's transport, not to the task message. */
const ENVELOPE_ONLY_PROPERTIES = new Set(['delivery_info', 'body_encoding', 'delivery_tag']);

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** How many `=` end a base64 text (0–2). */
function padding(text: string): number {
  return text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The decoded pieces of an envelope taken off a queue. */
export interface OpenedEnvelope {
  message: TaskMessage;
  redelivered: boolean;
}

/**
 * Decode an envelope into a task message. Throws DecodeError (or another
 * SerializationError from core's codec) naming what is wrong, so the caller
 * can dead-letter the entry with that reason.
 */
export function openEnvelope(raw: string): OpenedEnvelope {
  const env = asObject(parseJson(raw, 'envelope'));
  if (!env) throw new DecodeError('envelope', 'not a JSON object');
  const properties = asObject(env.properties) ?? {};
  const headers = asObject(env.headers);
  if (!headers) throw new DecodeError('headers', 'missing or not an object');
  if (typeof env.body !== 'string') throw new DecodeError('body', 'missing or not a string');
  let body = env.body;
  const bodyEncoding = properties.body_encoding;
  if (bodyEncoding === 'base64') {
    let bytes = Buffer.from(body, 'base64');
    // Node's decoder skips what is not base64: a padded body that decodes to exactly its
    // length's worth of bytes was clean base64 (the common case, checked without a scan).
    if (body.length % 4 !== 0 || bytes.length !== (body.length / 4) * 3 - padding(body)) {
      const compact = body.replace(/\s+/g, '');
      if (!BASE64.test(compact) || compact.length % 4 === 1) throw new DecodeError('body', 'body_encoding is base64 but the body is not base64');
      bytes = Buffer.from(compact, 'base64');
    }
    try {
      body = utf8.decode(bytes);
    } catch (error) {
      throw new DecodeError('body', 'base64 body is not UTF-8 text', { cause: error });
    }
  } else if (bodyEncoding !== undefined && bodyEncoding !== null) {
    throw new DecodeError('properties.body_encoding', `unsupported ${JSON.stringify(bodyEncoding)}; kombu uses base64`);
  }
  // The task's properties: all but the transport's own (copied by a loop; a rest pattern costs more per message).
  const taskProperties: Record<string, unknown> = {};
  for (const key in properties) if (!ENVELOPE_ONLY_PROPERTIES.has(key)) setOwn(taskProperties, key, properties[key]);
  const deliveryInfo = properties.delivery_info;
  const message = fromWireMessage({
    body,
    contentType: env['content-type'] as string | undefined,
    contentEncoding: env['content-encoding'] as string | undefined,
    headers,
    properties: taskProperties,
  });
  const redelivered = headers.redelivered === true || asObject(deliveryInfo)?.redelivered === true;
  return { message, redelivered };
}

/**
 * The envelope with kombu's redelivered flags set (`headers.redelivered` and
 * `properties.delivery_info.redelivered`), as kombu's restore writes it, and
 * its priority (to pick the band it goes back to). Re-encoded with core's
 * bigint-safe JSON so nothing else changes meaning. An envelope that is not a
 * JSON object is returned unchanged (it is dead-lettered on its next delivery).
 */
export function markRedelivered(raw: string): { envelope: string; priority: unknown } {
  let env: Record<string, unknown> | undefined;
  try {
    env = asObject(parseJson(raw, 'envelope'));
  } catch {
    return { envelope: raw, priority: 0 };
  }
  return env ? markEnvelopeRedelivered(env) : { envelope: raw, priority: 0 };
}

/** {@link markRedelivered} on an already parsed envelope (the restore path parses kombu's `[envelope, exchange, routing_key]`). */
export function markEnvelopeRedelivered(env: Record<string, unknown>): { envelope: string; priority: unknown } {
  const headers = asObject(env.headers);
  if (headers) headers.redelivered = true;
  else env.headers = { redelivered: true };
  const properties = asObject(env.properties) ?? {};
  env.properties = properties;
  const info = asObject(properties.delivery_info);
  if (info) info.redelivered = true;
  else properties.delivery_info = { redelivered: true };
  return { envelope: stringifyJson(env, 'message envelope'), priority: properties.priority };
}
