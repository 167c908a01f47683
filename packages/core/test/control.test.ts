import { describe, expect, it } from 'vitest';
import { topicMatches } from '../src/broadcast.js';
import { MailboxNode, NO_REPLY } from '../src/control/mailbox-node.js';
import { buildControlRequest, isForNode, parseControlRequest } from '../src/control/pidbox.js';
import { EventSender, eventRoutingKey } from '../src/events/event.js';
import { EventReceiver, eventsOf } from '../src/events/receiver.js';
import type { CeleryEvent } from '../src/events/event.js';
import { createLogger } from '../src/logger.js';
import type { MemoryBroker } from '../src/memory/memory-broker.js';
import { createTestApp, until } from '../src/testing/index.js';
import { fixture } from './helpers.js';

const log = createLogger('silent');

async function nodeOn(app: ReturnType<typeof createTestApp>, nodename: string, handlers = {}): Promise<MailboxNode> {
  const broker = (await app.getBroker()) as MemoryBroker;
  const node = new MailboxNode({ nodename, fanout: broker.fanout(), log, handlers: { ping: () => ({ ok: 'pong' }), ...handlers } });
  await node.start();
  return node;
}

describe('pidbox requests', () => {
  it('reads the request Celery publishes for inspect ping', () => {
    const captured = fixture<{ request: { decoded_body: unknown } }>('pidbox-redis-ping.json').request.decoded_body;
    expect(parseControlRequest(captured)).toEqual({
      method: 'ping',
      arguments: {},
      destination: null,
      pattern: null,
      matcher: null,
      ticket: '153e52b8-edc1-484f-aa51-7182063d7d02',
      reply_to: { exchange: 'reply.celery.pidbox', routing_key: 'f412f950-0c7d-3f9d-8bbb-a9472afafdbf' },
    });
  });

  it('builds the body and headers Celery does, without ticket or reply_to for a cast', () => {
    const captured = fixture<{ body: unknown }>('pidbox-amqp-revoke.json').body;
    const { message, ticket } = buildControlRequest({ method: 'revoke', arguments: { task_id: '00000000-0000-0000-0000-000000000000', terminate: false, signal: 'SIGTERM' }, clock: 9, timeout: 1 });
    expect(ticket).toBeUndefined();
    expect(message.body).toEqual(captured);
    expect(message.headers).toEqual({ clock: 9, expires: expect.any(Number) });
  });

  it('addresses a node by destination, by glob pattern, or every node', () => {
    const base = { method: 'ping', arguments: {}, pattern: null, matcher: null };
    expect(isForNode({ ...base, destination: null }, 'a@h')).toBe(true);
    expect(isForNode({ ...base, destination: ['b@h'] }, 'a@h')).toBe(false);
    expect(isForNode({ ...base, destination: null, pattern: 'a@*', matcher: 'glob' }, 'a@h')).toBe(true);
    expect(isForNode({ ...base, destination: null, pattern: 'b@*', matcher: 'glob' }, 'a@h')).toBe(false);
  });
});

describe('remote control over memory://', () => {
  it('collects one reply per node, keyed by node name', async () => {
    const app = createTestApp();
    const nodes = [await nodeOn(app, 'one@host'), await nodeOn(app, 'two@host')];
    const replies = await app.control.ping({ timeout: 0.2 });
    expect(replies).toHaveLength(2);
    expect(Object.assign({}, ...replies)).toEqual({ 'one@host': { ok: 'pong' }, 'two@host': { ok: 'pong' } });
    await Promise.all(nodes.map((n) => n.stop()));
    await app.close();
  });

  it('asks only the destination and stops waiting once it answered', async () => {
    const app = createTestApp();
    const nodes = [await nodeOn(app, 'one@host'), await nodeOn(app, 'two@host')];
    // A 60 s timeout would fail the test: the limit (one destination) ends the wait.
    const result = await app.control.inspect({ destination: ['two@host'], timeout: 60 }).ping();
    expect(result).toEqual({ 'two@host': { ok: 'pong' } });
    await Promise.all(nodes.map((n) => n.stop()));
    await app.close();
  });

  it('answers an unknown command with an error, as kombu does', async () => {
    const app = createTestApp();
    const node = await nodeOn(app, 'one@host');
    expect(await app.control.inspect({ timeout: 0.2 }).request('nope')).toEqual({ 'one@host': { error: "KeyError('nope')" } });
    await node.stop();
    await app.close();
  });

  it('passes the arguments to the handler and sends nothing back for NO_REPLY', async () => {
    const app = createTestApp();
    const seen: unknown[] = [];
    const node = await nodeOn(app, 'one@host', {
      shutdown: (args: Record<string, unknown>) => {
        seen.push(args);
        return NO_REPLY;
      },
    });
    expect(await app.control.broadcast('shutdown', { arguments: { msg: 'bye' }, reply: true, timeout: 0.2 })).toEqual([]);
    expect(seen).toEqual([{ msg: 'bye' }]);
    await node.stop();
    await app.close();
  });

  it('resolves undefined when no worker answers', async () => {
    const app = createTestApp();
    expect(await app.control.inspect({ timeout: 0.1 }).ping()).toBeUndefined();
    await app.close();
  });
});

describe('events', () => {
  it('names routing keys as Celery does', () => {
    expect(eventRoutingKey('worker-heartbeat')).toBe('worker.heartbeat');
    expect(eventRoutingKey('task-sent')).toBe('task.sent');
  });

  it('matches topic bindings with * and #', () => {
    expect(topicMatches('#', 'task.multi')).toBe(true);
    expect(topicMatches('worker.#', 'worker.heartbeat')).toBe(true);
    expect(topicMatches('worker.#', 'task.sent')).toBe(false);
    expect(topicMatches('task.*', 'task.sent')).toBe(true);
    expect(topicMatches('task.*', 'task')).toBe(false);
  });

  it('reads the task.multi batches a Celery worker sends', () => {
    const captured = fixture<Array<{ event: string; decoded_body: unknown }>>('events-redis.json');
    const multi = captured.find((e) => e.event.startsWith('task.multi(task-started'))!;
    expect(eventsOf(multi.decoded_body).map((e) => e.type)).toEqual(['task-started', 'task-succeeded']);
  });

  it('delivers sent events to a receiver, with Celery’s common fields', async () => {
    const app = createTestApp();
    const fanout = ((await app.getBroker()) as MemoryBroker).fanout();
    const received: CeleryEvent[] = [];
    const receiver = new EventReceiver({ fanout, bindingKey: 'task.#', onEvent: (e) => received.push(e) });
    await receiver.start();
    const sender = new EventSender({ fanout, hostname: 'w@h' });
    await sender.send('worker-heartbeat', { freq: 2 });
    await sender.send('task-started', { uuid: 'abc' });
    await until(() => received.length === 1, 2000, 'the task event');
    expect(received[0]).toMatchObject({ type: 'task-started', uuid: 'abc', hostname: 'w@h', pid: process.pid, clock: 2 });
    expect(Object.keys(received[0]!)).toEqual(['hostname', 'utcoffset', 'pid', 'clock', 'uuid', 'timestamp', 'type']);
    await receiver.close();
    await app.close();
  });

  it('sends task-sent with Celery’s fields when taskSendSentEvent is on', async () => {
    const app = createTestApp({ taskSendSentEvent: true });
    const fanout = ((await app.getBroker()) as MemoryBroker).fanout();
    const received: CeleryEvent[] = [];
    const receiver = new EventReceiver({ fanout, onEvent: (e) => received.push(e) });
    await receiver.start();
    const r = await app.sendTask('math.add', [1, 1], {}, { queue: 'maths' });
    await until(() => received.length === 1, 2000, 'the task-sent event');
    const captured = fixture<Array<{ event: string; decoded_body: Record<string, unknown> }>>('events-redis.json').find((e) => e.event === 'task-sent')!;
    expect(Object.keys(received[0]!)).toEqual(Object.keys(captured.decoded_body));
    expect(received[0]).toMatchObject({ type: 'task-sent', uuid: r.id, name: 'math.add', args: '(1, 1)', kwargs: '{}', queue: 'maths', exchange: '', routing_key: 'maths' });
    await receiver.close();
    await app.close();
  });
});
