/**
 * Writes of one event-loop turn batched into as few Redis calls as possible:
 * `add()` queues an item and schedules a flush after this turn's microtasks
 * (as ioredis' auto-pipelining does, without a loop phase of delay); the flush
 * hands the queued items to `write` in chunks of at most `chunk`, and each
 * caller learns whether its own chunk was written. Used for publishes (one
 * MULTI per turn) and result stores (one script run per turn).
 *
 * The callers of one chunk share one promise (a worker stores a result per
 * task: a promise and two resolver closures each showed in profiles).
 */
import { Deferred } from './deferred.js';

/** Items written together; their callers share the chunk's promise. */
class Chunk<T> extends Deferred {
  readonly items: T[] = [];
}

export class TurnBatcher<T> {
  /** Chunks not handed to `write` yet, oldest first; only the last one takes new items. */
  private queued: Array<Chunk<T>> = [];
  private scheduled = false;

  constructor(
    private readonly chunk: number,
    private readonly write: (items: T[]) => Promise<void>,
  ) {}

  /** Items queued and not yet handed to `write`. */
  get size(): number {
    let n = 0;
    for (const c of this.queued) n += c.items.length;
    return n;
  }

  /** Queue an item; resolves once the chunk it went out in was written, rejects with that write's error. */
  add(item: T): Promise<void> {
    let last = this.queued[this.queued.length - 1];
    if (!last || last.items.length >= this.chunk) {
      last = new Chunk<T>();
      this.queued.push(last);
    }
    last.items.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
    return last.promise;
  }

  /** Write everything queued now (also used on close). Never rejects: failures go to their callers. */
  async flush(): Promise<void> {
    for (let c = this.queued.shift(); c; c = this.queued.shift()) {
      try {
        await this.write(c.items);
        c.resolve();
      } catch (error) {
        c.reject(error);
      }
    }
  }
}
