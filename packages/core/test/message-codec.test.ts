import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ContentDisallowedError, DecodeError } from '../src/errors.js';
import { type BuildTaskMessageInit, buildTaskMessage, type TaskMessage } from '../src/message.js';
import { fromWireMessage, toWireMessage, type WireMessage } from '../src/message-codec.js';
import type { ApplyOptions } from '../src/task-options.js';
import { traceTask } from '../src/task-trace.js';
import { createTestApp } from '../src/testing/test-app.js';
import { fixture, type RedisEnvelope, redisWire } from './helpers.js';

/** The 16 headers Celery 5.2 sends, in its order. */
const CELERY_HEADERS = [
  'lang',
  'task',
  'id',
  'shadow',
  'eta',
  'expires',
  'group',
  'group_index',
  'retries',
  'timelimit',
  'root_id',
  'parent_id',
  'argsrepr',
  'kwargsrepr',
  'origin',
  'ignore_result',
];
const CELERY_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NOW = new Date('2026-11-25T06:11:05.747059Z');

/** How each captured message was sent from Python, as the same call in taskq. */
const CALLS: Array<{ fixture: string; task: string; args: unknown[]; options?: ApplyOptions }> = [
  { fixture: 'redis-task-v2-basic.json', task: 'interop.add', args: [2, 3] },
  { fixture: 'redis-task-v2-countdown.json', task: 'interop.add', args: [2, 3], options: { countdown: 10 } },
  { fixture: 'redis-task-v2-priority9.json', task: 'interop.add', args: [4, 5], options: { priority: 9 } },
  { fixture: 'redis-task-v2-expires.json', task: 'interop.add', args: [6, 7], options: { expires: 60 } },
  { fixture: 'redis-task-v2-fail.json', task: 'interop.fail', args: ['boom ✗'] },
  { fixture: 'redis-task-v2-ignore-result.json', task: 'interop.add', args: [5, 5], options: { ignoreResult: true } },
  { fixture: 'redis-task-v2-retry-original.json', task: 'interop.retry_once', args: ['k1'] },
  {
    fixture: 'redis-task-v2-echo-unicode-queue-other.json',
    task: 'interop.echo',
    args: [{ u: 'héllo ✓', n: [1, 2.5, null, true], big: 1180591620717411303424n }],
    options: { queue: 'other' },
  },
];

/** Messages that are part of a workflow: built with buildTaskMessage from the workflow fields Celery set. */
const WORKFLOW_FIXTURES = [
  'redis-task-v2-chain-first.json',
  'redis-task-v2-chain-second.json',
  'redis-task-v2-group-member.json',
  'redis-task-v2-chord-header-member.json',
  'redis-task-v2-chord-callback.json',
];

/** The JSON type of a value, as Celery's checks see it. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Compare a taskq message with a captured Celery message field by field.
 * Ids, timestamps and the origin differ by nature; their form must match.
 */
function expectSameAsCelery(ours: TaskMessage, envelope: RedisEnvelope, celery: TaskMessage): void {
  const raw = envelope.headers;
  expect(Object.keys(ours.headers)).toEqual(CELERY_HEADERS);
  expect(Object.keys(raw)).toEqual(CELERY_HEADERS);
  for (const key of CELERY_HEADERS) expect(jsonType(ours.headers[key]), `type of headers.${key}`).toBe(jsonType(raw[key]));

  const h = ours.headers;
  expect(h.id).toMatch(UUID);
  expect(h.root_id).toBe(celery.headers.root_id === celery.headers.id ? h.id : celery.headers.root_id);
  expect(h.origin).toMatch(/^gen\d+@.+$/);
  for (const key of ['eta', 'expires'] as const) {
    if (raw[key] === null) expect(h[key]).toBeNull();
    else {
      expect(raw[key]).toMatch(CELERY_ISO);
      expect(h[key]).toMatch(CELERY_ISO);
    }
  }
  for (const key of ['lang', 'task', 'shadow', 'group', 'group_index', 'retries', 'timelimit', 'parent_id', 'argsrepr', 'kwargsrepr', 'ignore_result']) {
    expect(h[key], `headers.${key}`).toEqual(raw[key]);
  }

  const p = ours.properties;
  expect(p.correlation_id).toBe(h.id);
  expect(p.reply_to).toMatch(UUID);
  expect(p.delivery_mode).toBe(envelope.properties.delivery_mode);
  // kombu's Redis transport fills in priority 0 when the call gave none; taskq leaves that to its transport too.
  if (envelope.properties.priority !== 0) expect(p.priority).toBe(envelope.properties.priority);
  else expect(p.priority ?? 0).toBe(0);
  expect(p.expiration).toBe(envelope.properties.expiration);

  expect(ours.body).toEqual(celery.body);
}

describe('decoding captured Celery messages', () => {
  const all = [...CALLS.map((c) => c.fixture), ...WORKFLOW_FIXTURES, 'redis-task-v2-retry-republished.json'];

  it.each(all)('decodes %s with every header and the body [args, kwargs, embed]', (name) => {
    const envelope = fixture<RedisEnvelope>(name);
    const message = fromWireMessage(redisWire(name));
    expect(message.headers).toEqual(envelope.headers);
    expect(message.properties.correlation_id).toBe(envelope.headers.id);
    expect(message.properties.reply_to).toBe(envelope.properties.reply_to);
    expect(message.body).toHaveLength(3);
    expect(Array.isArray(message.body[0])).toBe(true);
    expect(Object.keys(message.body[2])).toEqual(['callbacks', 'errbacks', 'chain', 'chord']);
  });

  it('decodes integers beyond 2^53 as bigint, so nothing is rounded', () => {
    const message = fromWireMessage(redisWire('redis-task-v2-echo-unicode-queue-other.json'));
    expect(message.body[0]).toEqual([{ u: 'héllo ✓', n: [1, 2.5, null, true], big: 1180591620717411303424n }]);
  });

  it('decodes the AMQP form (properties carry content_type; body already JSON)', () => {
    const amqp = fixture<{ properties: Record<string, unknown>; headers: Record<string, unknown>; body: unknown }>('amqp-task-v2-countdown-priority-expires.json');
    const message = fromWireMessage({
      body: JSON.stringify(amqp.body),
      contentType: amqp.properties.content_type as string,
      contentEncoding: amqp.properties.content_encoding as string,
      headers: amqp.headers,
      properties: amqp.properties,
    });
    expect(message.headers).toEqual(amqp.headers);
    expect(message.properties.priority).toBe(5);
    expect(message.properties.expiration).toBe('120000');
    expect(message.body).toEqual(amqp.body);
  });

  it('converts a protocol v1 message (everything in the body) to v2', () => {
    const v1 = fixture<{ decoded_body: Record<string, unknown> }>('redis-task-v1-countdown.json');
    const message = fromWireMessage(redisWire('redis-task-v1-countdown.json'));
    expect(message.headers).toMatchObject({
      task: 'interop.add',
      id: v1.decoded_body.id,
      root_id: v1.decoded_body.id,
      eta: '2026-11-25T06:22:11.504387+00:00',
      retries: 0,
      timelimit: [null, null],
      argsrepr: '(2, 2)',
      kwargsrepr: '{}',
    });
    expect(message.body).toEqual([[2, 2], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]);
    expect(message.properties.correlation_id).toBe(v1.decoded_body.id);
  });
});

describe('building messages as Celery does', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(CALLS)('builds the same message as $fixture', ({ fixture: name, task, args, options }) => {
    const app = createTestApp();
    const ours = app.buildMessage(task, args, {}, options ?? {});
    expectSameAsCelery(ours, fixture<RedisEnvelope>(name), fromWireMessage(redisWire(name)));
  });

  it('puts countdown and expires as UTC ISO times with a +00:00 offset', () => {
    const app = createTestApp();
    const m = app.buildMessage('interop.add', [1], {}, { countdown: 10, expires: 60 });
    expect(m.headers.eta).toBe('2026-11-25T06:11:15.747000+00:00');
    expect(m.headers.expires).toBe('2026-11-25T06:12:05.747000+00:00');
    expect(m.properties.expiration).toBe('60000');
  });

  it.each(WORKFLOW_FIXTURES)('builds the workflow message %s with its group, parent and embed', (name) => {
    const celery = fromWireMessage(redisWire(name));
    const h = celery.headers;
    const init: BuildTaskMessageInit = {
      task: h.task,
      args: celery.body[0],
      kwargs: celery.body[1],
      embed: celery.body[2],
      group: h.group,
      groupIndex: h.group_index,
      parentId: h.parent_id,
      replyTo: celery.properties.reply_to,
    };
    if (h.root_id !== h.id) init.rootId = h.root_id;
    expectSameAsCelery(buildTaskMessage(init), fixture<RedisEnvelope>(name), celery);
  });

  it('passes extra headers through without displacing Celery’s', () => {
    const m = buildTaskMessage({ task: 't', headers: { 'x-tenant': 'acme' } });
    expect(m.headers['x-tenant']).toBe('acme');
    expect(Object.keys(m.headers).filter((k) => CELERY_HEADERS.includes(k))).toEqual(CELERY_HEADERS);
  });

  it('keeps decoded extra headers and properties named __proto__ as plain values, not prototypes', () => {
    const wire = toWireMessage(buildTaskMessage({ task: 't' }));
    const headers = JSON.parse(JSON.stringify(wire.headers).replace('{', '{"__proto__":{"polluted":true},"x-extra":1,'));
    const properties = JSON.parse(JSON.stringify(wire.properties).replace('{', '{"__proto__":{"p":1},'));
    const m = fromWireMessage({ ...wire, headers, properties });
    expect(Object.getPrototypeOf(m.headers)).toBe(Object.prototype);
    expect((m.headers as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(m.headers, '__proto__')?.value).toEqual({ polluted: true });
    expect(m.headers['x-extra']).toBe(1);
    expect(Object.getOwnPropertyDescriptor(m.properties, '__proto__')?.value).toEqual({ p: 1 });
  });

  it('round-trips through the wire form unchanged', () => {
    const m = buildTaskMessage({ task: 't', args: [1n << 70n, 'é'], kwargs: { k: [1.5] }, priority: 3 });
    expect(fromWireMessage(toWireMessage(m))).toEqual(m);
  });
});

describe('a retry', () => {
  it('republishes the message as Celery does: same id, retries + 1, an eta, parent_id = itself', async () => {
    const app = createTestApp();
    app.task('interop.retry_once', (ctx, _key: string) => ctx.retry({ countdown: 1 }), { bind: true });
    const original = fromWireMessage(redisWire('redis-task-v2-retry-original.json'));
    const outcome = await traceTask(app, original, { hostname: 'w1@test' });
    expect(outcome.kind).toBe('retry');
    if (outcome.kind !== 'retry') return;
    const celery = fromWireMessage(redisWire('redis-task-v2-retry-republished.json'));
    const ours = outcome.retryMessage;
    expect(Object.keys(ours.headers)).toEqual(CELERY_HEADERS);
    const { eta, origin, ...rest } = ours.headers;
    const { eta: celeryEta, origin: _o, ...celeryRest } = celery.headers;
    expect(rest).toEqual(celeryRest);
    expect(eta).toMatch(CELERY_ISO);
    expect(celeryEta).toMatch(CELERY_ISO);
    expect(origin).toMatch(/^gen\d+@.+$/);
    expect(ours.properties).toMatchObject({
      correlation_id: celery.properties.correlation_id,
      reply_to: celery.properties.reply_to,
      replaced_task_nesting: 0,
      origin: original.headers.origin,
      delivery_mode: 2,
    });
    expect(ours.body).toEqual(celery.body);
  });
});

describe('malformed input', () => {
  const good = (): WireMessage => redisWire('redis-task-v2-basic.json');
  const withBody = (body: string): WireMessage => ({ ...good(), body });
  const withHeaders = (patch: Record<string, unknown>, drop: string[] = []): WireMessage => {
    const w = good();
    const headers = { ...w.headers, ...patch };
    for (const k of drop) delete headers[k];
    return { ...w, headers };
  };
  const decodeError = (wire: WireMessage): DecodeError => {
    try {
      fromWireMessage(wire);
    } catch (error) {
      expect(error).toBeInstanceOf(DecodeError);
      return error as DecodeError;
    }
    throw new Error('expected a DecodeError');
  };

  it.each([
    ['a body that is not JSON', withBody('[[2, 3], {}, {'), 'body'],
    ['a body with 2 elements', withBody('[[2, 3], {}]'), 'body'],
    ['args that are not an array', withBody('[{"a": 1}, {}, {}]'), 'body[0] (args)'],
    ['kwargs that are not an object', withBody('[[1], [2], {}]'), 'body[1] (kwargs)'],
    ['an embed that is not an object', withBody('[[1], {}, 7]'), 'body[2] (embed)'],
    ['no headers.task, and a body that is not protocol v1', withHeaders({}, ['task']), 'headers.task'],
    ['no headers.id', withHeaders({}, ['id']), 'headers.id'],
    ["eta 'tomorrow'", withHeaders({ eta: 'tomorrow' }), 'headers.eta'],
    ['an impossible expires date', withHeaders({ expires: '2026-13-45T99:00:00' }), 'headers.expires'],
    ['timelimit 5', withHeaders({ timelimit: 5 }), 'headers.timelimit'],
    ['retries -1', withHeaders({ retries: -1 }), 'headers.retries'],
    ['a missing content-type', { ...good(), contentType: undefined }, 'content-type'],
  ])('rejects %s with a DecodeError naming the field', (_what, wire, field) => {
    const error = decodeError(wire);
    expect(error.field).toBe(field);
    expect(error.code).toBe('TASKQ_ERR_DECODE');
    expect(error.message).toContain(field);
  });

  it('rejects an unknown content type with ContentDisallowedError', () => {
    expect(() => fromWireMessage({ ...good(), contentType: 'application/x-python-serialize' })).toThrow(ContentDisallowedError);
  });

  it('rejects a protocol v1 body without an id', () => {
    const wire: WireMessage = { ...good(), headers: {}, body: '{"task": "interop.add", "args": [1]}' };
    expect(decodeError(wire).field).toBe('body.id');
  });
});
