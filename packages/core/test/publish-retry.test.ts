/** What a send does when the broker's connection fails: Celery's publish retry policy. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BrokerConnectionError, EncodeError } from '../src/errors.js';
import type { TaskMessage } from '../src/message.js';
import { MemoryBroker } from '../src/memory/memory-broker.js';
import type { PublishRoute } from '../src/broker.js';
import { createTestApp } from '../src/testing/test-app.js';

/** A memory broker whose first `failures` publishes fail with `error`. */
class FlakyBroker extends MemoryBroker {
  attempts = 0;
  constructor(
    private failures: number,
    private readonly error: () => Error = () => new BrokerConnectionError('connection lost'),
  ) {
    super(`memory://flaky-${randomUUID()}`);
  }

  override publish(message: TaskMessage, route: PublishRoute): Promise<void> {
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(this.error());
    }
    return super.publish(message, route);
  }
}

describe('publish retry', () => {
  it('sends again after a connection error, as the retry policy allows, and the message arrives once', async () => {
    const broker = new FlakyBroker(2);
    const app = createTestApp({ broker });
    await app.sendTask('t.add', [1], {}, { queue: 'q', retryPolicy: { intervalStart: 0, intervalStep: 0 } });
    expect(broker.attempts).toBe(3);
    expect(await broker.queueSize('q')).toBe(1);
  });

  it('gives up after maxRetries and rejects with the connection error', async () => {
    const broker = new FlakyBroker(5);
    const app = createTestApp({ broker });
    await expect(app.sendTask('t.add', [1], {}, { queue: 'q', retryPolicy: { maxRetries: 2, intervalStart: 0, intervalStep: 0 } })).rejects.toBeInstanceOf(BrokerConnectionError);
    expect(broker.attempts).toBe(3);
    expect(await broker.queueSize('q')).toBe(0);
  });

  it('does not retry with retry: false, nor an error that is not about the connection', async () => {
    const once = new FlakyBroker(1);
    await expect(createTestApp({ broker: once }).sendTask('t.add', [1], {}, { queue: 'q', retry: false })).rejects.toBeInstanceOf(BrokerConnectionError);
    expect(once.attempts).toBe(1);
    const bad = new FlakyBroker(1, () => new EncodeError('cannot encode'));
    await expect(createTestApp({ broker: bad }).sendTask('t.add', [1], {}, { queue: 'q' })).rejects.toBeInstanceOf(EncodeError);
    expect(bad.attempts).toBe(1);
  });
});
