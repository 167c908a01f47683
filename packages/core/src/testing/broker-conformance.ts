/**
 * The behaviours every transport must show, as one suite each transport runs
 * against itself: `describeBrokerConformance({ name: 'redis', createBroker })`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Broker, Delivery } from '../broker.js';
import { buildTaskMessage, type TaskMessage } from '../message.js';
import { toCeleryIso } from '../time.js';

export interface BrokerConformanceOptions {
  /** Shown in the suite title: 'memory', 'redis', 'amqp'. */
  name: string;
  /** A fresh, connected broker; several may be open at once (they must share the same queues). */
  createBroker(): Promise<Broker>;
  /** Delete what the suite created (called once per queue name used, at the end). */
  cleanupQueue?(broker: Broker, queue: string): Promise<void>;
  /** Milliseconds to wait for deliveries (default 5000). */
  timeoutMs?: number;
}

export function describeBrokerConformance(options: BrokerConformanceOptions): void {
  const timeoutMs = options.timeoutMs ?? 5000;
  const opened: Broker[] = [];
  const queues: string[] = [];

  const broker = async (): Promise<Broker> => {
    const b = await options.createBroker();
    opened.push(b);
    return b;
  };
  const queue = (label: string): string => {
    const q = `taskq-conf-${options.name}-${label}-${randomUUID().slice(0, 8)}`;
    queues.push(q);
    return q;
  };
  const message = (args: unknown[] = [1, 2], extra: Parameters<typeof buildTaskMessage>[0] = { task: 'conformance.add' }): TaskMessage =>
    buildTaskMessage({ ...extra, args, replyTo: 'conformance' });

  describe(`Broker conformance: ${options.name}`, () => {
    afterAll(async () => {
      const b = opened[0];
      if (b && options.cleanupQueue) for (const q of queues) await options.cleanupQueue(b, q).catch(() => {});
      for (const o of opened) await o.close().catch(() => {});
    });

    it('delivers a published message with its headers, properties and body intact', async () => {
      const b = await broker();
      const q = queue('roundtrip');
      const sent = message([2, 3]);
      await b.publish(sent, { queue: q });
      const [d] = await take(b, [q], 1, timeoutMs);
      expect(d!.message.headers).toEqual(sent.headers);
      expect(d!.message.body).toEqual(sent.body);
      expect(d!.message.properties.correlation_id).toBe(sent.headers.id);
      expect(d!.queue).toBe(q);
      expect(d!.redelivered).toBe(false);
      await d!.ack();
    });

    it('forgets an acknowledged message', async () => {
      const b = await broker();
      const q = queue('ack');
      await b.publish(message(), { queue: q });
      const [d] = await take(b, [q], 1, timeoutMs);
      await d!.ack();
      expect(await b.queueSize(q)).toBe(0);
      const b2 = await broker();
      expect(await take(b2, [q], 1, 300).catch(() => [])).toEqual([]);
    });

    it('redelivers a message rejected with requeue, marked redelivered', async () => {
      const b = await broker();
      const q = queue('requeue');
      const sent = message();
      await b.publish(sent, { queue: q });
      const got: Delivery[] = [];
      const consumer = await b.consume([q], (d) => {
        got.push(d);
        if (got.length === 1) void d.reject(true);
        else void d.ack();
      }, { prefetch: 1 });
      await until(() => got.length >= 2, timeoutMs, 'the requeued message to come back');
      await consumer.close();
      expect(got[1]!.message.headers.id).toBe(sent.headers.id);
      expect(got[1]!.redelivered).toBe(true);
    });

    it('does not redeliver a message rejected without requeue', async () => {
      const b = await broker();
      const q = queue('reject');
      await b.publish(message(), { queue: q });
      const [d] = await take(b, [q], 1, timeoutMs);
      await d!.reject(false);
      expect(await b.queueSize(q)).toBe(0);
      const b2 = await broker();
      expect(await take(b2, [q], 1, 300).catch(() => [])).toEqual([]);
    });

    it('redelivers unacknowledged messages when their consumer goes away', async () => {
      const first = await broker();
      const q = queue('lost');
      const sent = message();
      await first.publish(sent, { queue: q });
      const held: Delivery[] = [];
      const consumer = await first.consume([q], (d) => held.push(d), { prefetch: 1 });
      await until(() => held.length === 1, timeoutMs, 'the first delivery');
      await consumer.close();
      const second = await broker();
      const [again] = await take(second, [q], 1, timeoutMs);
      expect(again!.message.headers.id).toBe(sent.headers.id);
      expect(again!.redelivered).toBe(true);
      await again!.ack();
    });

    it('delivers waiting messages in priority order', async () => {
      const b = await broker();
      if (!b.capabilities.priority) return;
      const q = queue('priority');
      for (const p of [6, 0, 9, 3]) await b.publish(message([p], { task: 'conformance.add', priority: p }), { queue: q });
      const order: number[] = [];
      const consumer = await b.consume([q], (d) => {
        order.push(d.message.body[0][0] as number);
        void d.ack();
      }, { prefetch: 1 });
      await until(() => order.length === 4, timeoutMs, 'four deliveries');
      await consumer.close();
      expect(order).toEqual(b.capabilities.priorityOrder === 'lowest-first' ? [0, 3, 6, 9] : [9, 6, 3, 0]);
    });

    it('keeps eta and expires on the message', async () => {
      const b = await broker();
      const q = queue('eta');
      const eta = toCeleryIso(new Date(Date.now() + 3_600_000));
      const expires = toCeleryIso(new Date(Date.now() + 7_200_000));
      const sent = message([1], { task: 'conformance.add', eta, expires, expirationMs: 7_200_000 });
      await b.publish(sent, { queue: q });
      const [d] = await take(b, [q], 1, timeoutMs);
      expect(d!.message.headers.eta).toBe(eta);
      expect(d!.message.headers.expires).toBe(expires);
      await d!.ack();
    });

    it('purges a queue and says how many messages it removed', async () => {
      const b = await broker();
      const q = queue('purge');
      for (let i = 0; i < 5; i++) await b.publish(message([i]), { queue: q });
      expect(await b.queueSize(q)).toBe(5);
      expect(await b.purge(q)).toBe(5);
      expect(await b.queueSize(q)).toBe(0);
    });

    it('consumes from several queues, and only from those', async () => {
      const b = await broker();
      const [qa, qb, qc] = [queue('multi-a'), queue('multi-b'), queue('multi-c')];
      await b.publish(message(['a']), { queue: qa });
      await b.publish(message(['b']), { queue: qb });
      await b.publish(message(['c']), { queue: qc });
      const got = await take(b, [qa, qb], 2, timeoutMs);
      expect(got.map((d) => d.queue).sort()).toEqual([qa, qb].sort());
      for (const d of got) await d.ack();
      expect(await b.queueSize(qc)).toBe(1);
    });

    it('round-trips large and unicode payloads unchanged', async () => {
      const b = await broker();
      const q = queue('payload');
      const big = 'x'.repeat(1024 * 1024);
      const value = { u: 'héllo ✓ 𝄞 日本', nested: [1, [2, [3, null]], { t: true }], n: null, big: 1180591620717411303424n, f: -1e-7 };
      await b.publish(message([value, big]), { queue: q });
      const [d] = await take(b, [q], 1, timeoutMs);
      expect(d!.message.body[0]).toEqual([value, big]);
      await d!.ack();
    });

    it('holds no more unacknowledged messages than the prefetch', async () => {
      const b = await broker();
      const q = queue('prefetch');
      for (let i = 0; i < 6; i++) await b.publish(message([i]), { queue: q });
      const held: Delivery[] = [];
      let outstanding = 0;
      let maxOutstanding = 0;
      let autoAck = false;
      const ack = async (d: Delivery): Promise<void> => {
        outstanding--;
        await d.ack();
      };
      const consumer = await b.consume([q], (d) => {
        held.push(d);
        outstanding++;
        maxOutstanding = Math.max(maxOutstanding, outstanding);
        if (autoAck) void ack(d);
      }, { prefetch: 2 });
      await until(() => held.length === 2, timeoutMs, 'two deliveries');
      // Proving that nothing more arrives needs a pause; 300 ms is ample for an in-process or local broker.
      await sleep(300);
      expect(held.length).toBe(2);
      await ack(held[0]!);
      await until(() => held.length === 3, timeoutMs, 'a third delivery after an ack');
      autoAck = true;
      for (const d of held.slice(1)) await ack(d);
      await until(() => held.length === 6, timeoutMs, 'the rest');
      await consumer.close();
      expect(maxOutstanding).toBeLessThanOrEqual(2);
    });

    it('gives each message to exactly one of several concurrent consumers', async () => {
      const [b1, b2] = [await broker(), await broker()];
      const q = queue('concurrent');
      const n = 200;
      const seen = new Map<string, number>();
      const handler = (d: Delivery): void => {
        seen.set(d.message.headers.id, (seen.get(d.message.headers.id) ?? 0) + 1);
        void d.ack();
      };
      const c1 = await b1.consume([q], handler, { prefetch: 10 });
      const c2 = await b2.consume([q], handler, { prefetch: 10 });
      await Promise.all(Array.from({ length: n }, (_, i) => b1.publish(message([i]), { queue: q })));
      await until(() => seen.size === n, timeoutMs * 2, `${n} distinct deliveries`);
      await sleep(200);
      await Promise.all([c1.close(), c2.close()]);
      expect(seen.size).toBe(n);
      expect([...seen.values()].every((count) => count === 1)).toBe(true);
    });
  });
}

/** Consume `count` deliveries from queues and stop (deliveries are left for the caller to ack). */
async function take(b: Broker, queues: string[], count: number, timeoutMs: number): Promise<Delivery[]> {
  const got: Delivery[] = [];
  const consumer = await b.consume(queues, (d) => got.push(d), { prefetch: count });
  try {
    await until(() => got.length >= count, timeoutMs, `${count} deliveries from ${queues.join(',')}`);
  } finally {
    await consumer.stop();
  }
  return got;
}

/** Poll `check` every 10 ms; throws naming `what` after `timeoutMs` (default 5 s). */
export async function until(check: () => boolean, timeoutMs = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
