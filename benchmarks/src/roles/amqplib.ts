/**
 * The raw amqplib ceiling on RabbitMQ: the same persistent ~400-byte message
 * taskq publishes, with publisher confirms, and a consumer with prefetch and
 * one ack per message — no decoding, no task, no result.
 */
import amqp from 'amqplib';
import type { ChildResult, Job } from '../protocol.js';
import { peakRssMiB, until } from '../protocol.js';

const BODY = Buffer.from(JSON.stringify([[0], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]).padEnd(400, ' '));

export async function prepare(job: Job): Promise<() => Promise<ChildResult>> {
  const conn = await amqp.connect(job.url);
  switch (job.role) {
    case 'produce':
    case 'enqueue-one': {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue(job.queue, { durable: true });
      return async () => {
        const t0 = performance.now();
        for (let i = 0; i < job.jobs; i++) {
          if (!ch.publish('', job.queue, BODY, { persistent: true, contentType: 'application/json', headers: { task: 'bench.noop', id: String(i) } })) {
            await new Promise((r) => ch.once('drain', r));
          }
        }
        await ch.waitForConfirms();
        const ms = performance.now() - t0;
        await conn.close();
        return { ms, count: job.jobs, rssMiB: peakRssMiB() };
      };
    }
    case 'drain': {
      const ch = await conn.createChannel();
      await ch.assertQueue(job.queue, { durable: true });
      await ch.prefetch(job.concurrency * 4);
      let done = 0;
      return async () => {
        const t0 = performance.now();
        await ch.consume(job.queue, (m) => {
          if (!m) return;
          JSON.parse(m.content.toString('utf8'));
          ch.ack(m);
          done++;
        });
        await until(() => done >= job.jobs);
        const ms = performance.now() - t0;
        const rssMiB = peakRssMiB();
        await conn.close();
        return { ms, count: job.jobs, rssMiB };
      };
    }
    default:
      throw new Error(`amqplib has no ${job.role} role`);
  }
}
