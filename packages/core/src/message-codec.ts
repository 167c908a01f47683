/**
 * The only place that turns a {@link TaskMessage} into wire parts and back.
 * Transports wrap {@link WireMessage} in their own envelope (kombu's JSON
 * envelope on Redis, AMQP properties on RabbitMQ).
 *
 * Decoding is strict where Celery would crash or lose the message, and lenient
 * where Celery is (missing optional headers, unknown extra fields): a message
 * that cannot be run raises a {@link DecodeError} naming the bad field, so the
 * transport can dead-letter it with that reason.
 */
import { ContentDisallowedError, DecodeError } from './errors.js';
import { parseJson, stringifyJson } from './json.js';
import { EMPTY_EMBED, type TaskBody, type TaskEmbed, type TaskHeaders, type TaskMessage, type TaskProperties } from './message.js';
import { argsRepr, kwargsRepr } from './python-repr.js';
import { setOwn } from './own-property.js';
import { parseIsoDate } from './time.js';

/** A message as bytes-and-fields, before any transport envelope. */
export interface WireMessage {
  /** The body as text (UTF-8 JSON for task messages). */
  body: string;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  headers: Record<string, unknown>;
  properties: Record<string, unknown>;
}

export const JSON_CONTENT_TYPE = 'application/json';

/** Encode the body of a task message; throws EncodeError for values JSON cannot carry. */
export function encodeTaskBody(body: TaskBody): string {
  return stringifyJson(body, 'task body');
}

/**
 * Task headers without those whose value is null, and without a `timelimit`
 * of `[null, null]`: Celery reads each header with `.get()`, so its workers
 * treat both forms alike, and a transport that compacts them carries ~110
 * bytes less per message (its broker decodes, stores and copies less). See the
 * brokers' `compact_headers` transport option.
 */
export function compactHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in headers) {
    const value = headers[key];
    if (value === null) continue;
    if (key === 'timelimit' && Array.isArray(value) && value.length === 2 && value[0] === null && value[1] === null) continue;
    setOwn(out, key, value);
  }
  return out;
}

export function toWireMessage(message: TaskMessage): WireMessage {
  return {
    body: encodeTaskBody(message.body),
    contentType: message.contentType,
    contentEncoding: message.contentEncoding,
    headers: message.headers,
    properties: message.properties,
  };
}

/** Decode and validate a wire message into a protocol v2 task message (v1 is converted). */
export function fromWireMessage(wire: WireMessage): TaskMessage {
  const contentType = wire.contentType;
  if (contentType === undefined || contentType === null || contentType === '') {
    throw new DecodeError('content-type', 'missing; Celery task messages are application/json');
  }
  if (contentType !== JSON_CONTENT_TYPE) throw new ContentDisallowedError(String(contentType));
  const enc = wire.contentEncoding;
  if (enc !== undefined && enc !== null && enc !== 'utf-8' && enc !== 'utf8' && enc !== 'binary') {
    throw new DecodeError('content-encoding', `unsupported encoding ${JSON.stringify(enc)}; expected utf-8`);
  }
  const headers = wire.headers;
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new DecodeError('headers', 'must be an object');
  }
  const parsed = parseJson(wire.body, 'body');
  if (typeof headers.task !== 'string') {
    if (isV1Body(parsed)) return convertV1(parsed, wire.properties);
    throw new DecodeError('headers.task', 'missing: not a protocol v2 task message (and the body is not protocol v1)');
  }
  return {
    headers: validateHeaders(headers),
    properties: validateProperties(wire.properties, headers.id as string),
    body: validateBody(parsed),
    contentType: JSON_CONTENT_TYPE,
    contentEncoding: 'utf-8',
  };
}

function validateHeaders(h: Record<string, unknown>): TaskHeaders {
  const id = h.id;
  if (typeof id !== 'string' || id === '') throw new DecodeError('headers.id', 'missing or not a string');
  const task = h.task as string;
  if (task === '') throw new DecodeError('headers.task', 'empty task name');
  const eta = optionalDate(h.eta, 'headers.eta');
  const expires = optionalDate(h.expires, 'headers.expires');
  let timelimit: [number | null, number | null] = [null, null];
  if (h.timelimit !== undefined && h.timelimit !== null) {
    const tl = h.timelimit;
    if (!Array.isArray(tl) || tl.length !== 2 || !tl.every((v) => v === null || typeof v === 'number')) {
      throw new DecodeError('headers.timelimit', `must be [hard, soft] seconds or nulls, got ${JSON.stringify(tl)}`);
    }
    timelimit = [tl[0], tl[1]];
  }
  const retries = h.retries ?? 0;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0) {
    throw new DecodeError('headers.retries', `must be a non-negative integer, got ${JSON.stringify(retries)}`);
  }
  // The known headers as one literal (a fast object whatever the decoder made: a header table
  // decoded key by key can be a slow dictionary, and spreading it cost more than the task),
  // then any extra headers after them.
  const out: TaskHeaders = {
    lang: typeof h.lang === 'string' ? h.lang : 'py',
    task,
    id,
    shadow: typeof h.shadow === 'string' ? h.shadow : null,
    eta,
    expires,
    group: typeof h.group === 'string' ? h.group : null,
    group_index: typeof h.group_index === 'number' ? h.group_index : null,
    retries,
    timelimit,
    root_id: typeof h.root_id === 'string' ? h.root_id : id,
    parent_id: typeof h.parent_id === 'string' ? h.parent_id : null,
    argsrepr: typeof h.argsrepr === 'string' ? h.argsrepr : '',
    kwargsrepr: typeof h.kwargsrepr === 'string' ? h.kwargsrepr : '',
    origin: typeof h.origin === 'string' ? h.origin : '',
    ignore_result: h.ignore_result === true,
  };
  for (const key in h) if (!KNOWN_HEADERS.has(key)) setOwn(out, key, h[key]);
  return out;
}

const KNOWN_HEADERS = new Set(['lang', 'task', 'id', 'shadow', 'eta', 'expires', 'group', 'group_index', 'retries', 'timelimit', 'root_id', 'parent_id', 'argsrepr', 'kwargsrepr', 'origin', 'ignore_result']);

function optionalDate(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || parseIsoDate(value) === undefined) {
    throw new DecodeError(field, `not an ISO-8601 datetime: ${JSON.stringify(value)}`);
  }
  return value;
}

function validateProperties(p: unknown, id: string): TaskProperties {
  const props = (p !== null && typeof p === 'object' && !Array.isArray(p) ? p : {}) as Record<string, unknown>;
  // A copy without priority (added back when it is a number), by a loop: a rest pattern or a
  // delete costs far more, and this runs for every message.
  const out = {} as TaskProperties;
  for (const key in props) if (key !== 'priority') setOwn(out as Record<string, unknown>, key, props[key]);
  if (typeof props.correlation_id !== 'string') out.correlation_id = id;
  if (typeof props.delivery_mode !== 'number') out.delivery_mode = 2;
  const priority = props.priority;
  if (typeof priority === 'number' && Number.isFinite(priority)) out.priority = priority;
  return out;
}

function validateBody(parsed: unknown): TaskBody {
  if (!Array.isArray(parsed) || parsed.length !== 3) {
    throw new DecodeError('body', `must be [args, kwargs, embed] (3 elements), got ${describe(parsed)}`);
  }
  const [args, kwargs, embed] = parsed;
  if (!Array.isArray(args)) throw new DecodeError('body[0] (args)', `must be an array, got ${describe(args)}`);
  if (kwargs === null || typeof kwargs !== 'object' || Array.isArray(kwargs)) {
    throw new DecodeError('body[1] (kwargs)', `must be an object, got ${describe(kwargs)}`);
  }
  let e: TaskEmbed;
  if (embed === null || embed === undefined) e = { ...EMPTY_EMBED };
  else if (typeof embed === 'object' && !Array.isArray(embed)) e = { ...EMPTY_EMBED, ...(embed as Partial<TaskEmbed>) };
  else throw new DecodeError('body[2] (embed)', `must be an object, got ${describe(embed)}`);
  return [args, kwargs as Record<string, unknown>, e];
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return v === null ? 'null' : typeof v;
}

interface V1Body {
  task: string;
  id: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  [k: string]: unknown;
}

function isV1Body(body: unknown): body is V1Body {
  return body !== null && typeof body === 'object' && !Array.isArray(body) && typeof (body as V1Body).task === 'string';
}

/** Protocol v1 keeps everything in the body; map it onto v2 the way Celery's worker does. */
function convertV1(b: V1Body, properties: Record<string, unknown>): TaskMessage {
  if (typeof b.id !== 'string') throw new DecodeError('body.id', 'protocol v1 message without an id');
  const args = Array.isArray(b.args) ? b.args : [];
  const kwargs = b.kwargs && typeof b.kwargs === 'object' && !Array.isArray(b.kwargs) ? b.kwargs : {};
  const headers = validateHeaders({
    task: b.task,
    id: b.id,
    eta: b.eta ?? null,
    expires: b.expires ?? null,
    group: b.taskset ?? b.group ?? null,
    group_index: b.group_index ?? null,
    retries: b.retries ?? 0,
    timelimit: b.timelimit ?? [null, null],
    argsrepr: argsRepr(args),
    kwargsrepr: kwargsRepr(kwargs),
  });
  const embed: TaskEmbed = {
    callbacks: (b.callbacks as TaskEmbed['callbacks']) ?? null,
    errbacks: (b.errbacks as TaskEmbed['errbacks']) ?? null,
    chain: null,
    chord: (b.chord as TaskEmbed['chord']) ?? null,
  };
  return {
    headers,
    properties: validateProperties(properties, b.id),
    body: [args, kwargs, embed],
    contentType: JSON_CONTENT_TYPE,
    contentEncoding: 'utf-8',
  };
}
