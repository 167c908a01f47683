import { randomUUID } from 'node:crypto';
import { createMemoryResultBackend } from '../memory/memory-result-backend.js';
import type { ResultBackend } from '../result-backend.js';

/**
 * A memory:// result backend whose every `store()` rejects with
 * "result backend is down" (reads still work): for tests of what a worker or
 * a trace does when results cannot be stored.
 */
export function createDownResultBackend(): ResultBackend {
  const memory = createMemoryResultBackend(`memory://down-${randomUUID()}`);
  return {
    backend: memory.backend,
    connect: () => memory.connect(),
    close: () => memory.close(),
    store: () => Promise.reject(new Error('result backend is down')),
    get: (id) => memory.get(id),
    wait: (id, o) => memory.wait(id, o),
    forget: (id) => memory.forget(id),
  };
}
