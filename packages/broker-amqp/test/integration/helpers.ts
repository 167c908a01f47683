/** Shared by the integration tests: the RabbitMQ URL, a silent logger, and a raw amqplib channel for inspection. */
import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '@taskq/core';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll } from 'vitest';
import { type AmqpBroker, type AmqpBrokerOptions, createAmqpBroker } from '../../src/index.js';

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672//';
export const silent: Logger = createLogger('silent');

/** A queue name unique to this run, prefixed by the test file's label. */
export function uniqueQueue(label: string): string {
  return `taskq-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** A connected broker on the test RabbitMQ (fails loudly when RabbitMQ is not running). */
export async function connectedBroker(options: Partial<AmqpBrokerOptions> = {}): Promise<AmqpBroker> {
  const broker = createAmqpBroker({ url: AMQP_URL, log: silent, ...options });
  await broker.connect();
  return broker;
}

/** Brokers and queue names of one test file, closed and deleted after its tests. */
export interface TestResources {
  /** A connected broker (with the file's default options), closed after the file. */
  broker(options?: Partial<AmqpBrokerOptions>): Promise<AmqpBroker>;
  /** A unique queue name labelled for the file, deleted after the file. */
  queue(label: string): string;
  /** Also delete this queue or exchange after the file. */
  track(name: string): void;
}

/** Register the file's clean-up and hand out tracked brokers and queue names. */
export function useTestResources(label: string, defaults: Partial<AmqpBrokerOptions> = {}): TestResources {
  const names: string[] = [];
  const brokers: AmqpBroker[] = [];
  afterAll(async () => {
    for (const b of brokers) await b.close();
    await deleteQueues(names);
  }, 60_000);
  return {
    async broker(options = {}) {
      const b = await connectedBroker({ ...defaults, ...options, transportOptions: { ...defaults.transportOptions, ...options.transportOptions } });
      brokers.push(b);
      return b;
    },
    queue(name) {
      const q = uniqueQueue(`${label}-${name}`);
      names.push(q);
      return q;
    },
    track(name) {
      names.push(name);
    },
  };
}

/** A raw amqplib connection and channel, to look at what the transport declared and sent. */
export async function rawChannel(): Promise<{ model: ChannelModel; channel: Channel; close(): Promise<void> }> {
  const model = await amqp.connect(AMQP_URL);
  const channel = await model.createChannel();
  return { model, channel, close: () => model.close().catch(() => {}) };
}

/** Delete queues (and their exchanges) on a fresh raw connection, ignoring what does not exist. */
export async function deleteQueues(names: Iterable<string>): Promise<void> {
  const model = await amqp.connect(AMQP_URL);
  try {
    for (const name of names) {
      const ch = await model.createChannel();
      ch.on('error', () => {});
      await ch.deleteQueue(name).catch(() => {});
      const ch2 = await model.createChannel();
      ch2.on('error', () => {});
      await ch2.deleteExchange(name).catch(() => {});
      await Promise.allSettled([ch.close(), ch2.close()]);
    }
  } finally {
    await model.close().catch(() => {});
  }
}

/** What `rabbitmqctl` reports, as JSON rows (the broker's own view of declarations). */
export async function rabbitmqctl<T = Record<string, unknown>>(...args: string[]): Promise<T[]> {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile('rabbitmqctl', [...args, '-q', '--formatter', 'json'], (error, stdout, stderr) => (error ? reject(new Error(`rabbitmqctl ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout))),
  );
  return JSON.parse(out) as T[];
}

/** Run python3 (the system one, with Celery 5.2's py-amqp) and return its stdout. */
export async function python(script: string, ...args: string[]): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise<string>((resolve, reject) =>
    execFile('/usr/bin/python3', ['-c', script, ...args], (error, stdout, stderr) => (error ? reject(new Error(`python3: ${stderr || error.message}`)) : resolve(stdout))),
  );
}

/** Run a rabbitmqctl command that prints nothing useful (stop_app, start_app, close_connection…). */
export async function rabbitmqctlRun(...args: string[]): Promise<void> {
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve, reject) =>
    execFile('rabbitmqctl', args, { timeout: 60_000 }, (error, _stdout, stderr) => (error ? reject(new Error(`rabbitmqctl ${args.join(' ')}: ${stderr || error.message}`)) : resolve())),
  );
}

/** Poll an async condition (for broker state only rabbitmqctl can show). */
export async function untilAsync(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Wait until a queue exists on the broker: a message published to it from then on is kept for
 * its consumer. Each probe uses its own channel, as `checkQueue` on a missing queue closes it (404).
 */
export async function untilQueueExists(name: string, timeoutMs = 10_000): Promise<void> {
  const model = await amqp.connect(AMQP_URL);
  try {
    await untilAsync(
      async () => {
        const ch = await model.createChannel();
        ch.on('error', () => {});
        try {
          await ch.checkQueue(name);
          await ch.close().catch(() => {});
          return true;
        } catch {
          return false;
        }
      },
      timeoutMs,
      `queue ${name} to be declared`,
    );
  } finally {
    await model.close().catch(() => {});
  }
}
