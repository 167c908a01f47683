/** Main-thread garbage-collection pauses (minor and major), from `perf_hooks` 'gc' entries. */
import { PerformanceObserver } from 'node:perf_hooks';

/** Start counting; the returned function stops and gives the total pause time (ms) and the number of pauses. */
export function meterGc(): () => Promise<{ ms: number; count: number }> {
  let ms = 0;
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      ms += e.duration;
      count++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return async () => {
    // GC entries are delivered asynchronously: let the last ones arrive.
    await new Promise((r) => setImmediate(r));
    observer.disconnect();
    return { ms, count };
  };
}
