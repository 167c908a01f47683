/** Core's broker and result backend conformance suites, on the real Redis. */
import { describeBrokerConformance, describeResultBackendConformance } from '@taskq/core/testing';
import type { Redis } from 'ioredis';
import { createRedisResultBackend } from '../../src/index.js';
import { brokerFor, freshPrefix, silent, urlFor, useRawClient } from './helpers.js';

const DB = 9;
const prefix = freshPrefix('conformance');
let raw: Redis;

useRawClient(DB, prefix, (r) => {
  raw = r;
});

// Every key lives under this file's global_keyprefix and is deleted in afterAll, so no per-queue cleanup is needed.
describeBrokerConformance({
  name: 'redis',
  async createBroker() {
    const b = brokerFor(DB, prefix);
    await b.connect();
    return b;
  },
});

describeResultBackendConformance({
  name: 'redis',
  async createBackend() {
    const b = createRedisResultBackend({ url: urlFor(DB), log: silent });
    await b.connect();
    return b;
  },
});
