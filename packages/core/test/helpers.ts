/** Shared helpers of core's tests: fixtures and reading what a memory:// broker holds. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { App } from '../src/app.js';
import type { Delivery } from '../src/broker.js';
import type { WireMessage } from '../src/message-codec.js';
import { until } from '../src/testing/broker-conformance.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** A captured fixture, parsed as plain JSON (no bigint handling: use `redisWire` for bodies). */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(`${FIXTURES}${name}`, 'utf8')) as T;
}

export interface RedisEnvelope {
  body: string;
  'content-type': string;
  'content-encoding': string;
  headers: Record<string, unknown>;
  properties: Record<string, unknown>;
}

/** The wire message inside a kombu Redis envelope (body base64-decoded to text). */
export function redisWire(name: string): WireMessage {
  const env = fixture<RedisEnvelope>(name);
  return {
    body: Buffer.from(env.body, 'base64').toString('utf8'),
    contentType: env['content-type'],
    contentEncoding: env['content-encoding'],
    headers: env.headers,
    properties: env.properties,
  };
}

/** Take the next `count` deliveries from a queue of the app's broker, acknowledging them. */
export async function drain(app: App, queue: string, count = 1): Promise<Delivery[]> {
  const broker = await app.getBroker();
  const got: Delivery[] = [];
  const consumer = await broker.consume([queue], (d) => got.push(d), { prefetch: count });
  try {
    await until(() => got.length >= count, 5000, `${count} message(s) on ${queue}`);
  } finally {
    await consumer.stop();
  }
  for (const d of got) await d.ack();
  return got;
}
