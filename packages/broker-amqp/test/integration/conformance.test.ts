/** The core conformance suites, run against the real RabbitMQ. */
import { randomUUID } from 'node:crypto';
import { describeBrokerConformance, describeResultBackendConformance } from '@taskq/core/testing';
import { afterAll } from 'vitest';
import { createRpcResultBackend } from '../../src/index.js';
import { AMQP_URL, connectedBroker, deleteQueues, silent } from './helpers.js';

const declared = new Set<string>();

// max_priority is configured so the priority test runs (RabbitMQ delivers 9 first, like Celery on RabbitMQ).
describeBrokerConformance({
  name: 'amqp',
  createBroker: () => connectedBroker({ transportOptions: { max_priority: 10 } }),
  cleanupQueue: async (_broker, queue) => {
    declared.add(queue);
  },
});

// rpc:// results are messages to one app's reply queue: the suite's "two backends" are two connections
// of one app, sharing its oid (what Celery does within a process).
const oid = `taskq-test-rpc-conf-${randomUUID()}`;
describeResultBackendConformance({
  name: 'rpc',
  createBackend: async () => {
    const backend = createRpcResultBackend({ url: AMQP_URL, oid, log: silent, resultExpires: 60 });
    await backend.connect();
    return backend;
  },
});

afterAll(async () => {
  await deleteQueues([...declared, oid]);
});
