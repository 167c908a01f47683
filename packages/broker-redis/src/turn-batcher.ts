/**
 * Writes of one event-loop turn batched into as few Redis calls as possible:
 * `add()` queues an item and schedules a flush after this turn's microtasks
 * (as ioredis' auto-pipelining does, without a loop phase of delay); the flush
 * hands the queued items to `write` in chunks of at most `chunk`, and each
 * caller learns whether its own chunk was written. Used for publishes (one
 * MULTI per turn) and result stores (one script run per turn).
 */
export class TurnBatcher<T> {
  private pending: Array<{ item: T; resolve(): void; reject(error: unknown): void }> = [];
  private scheduled = false;

  constructor(
    private readonly chunk: number,
    private readonly write: (items: T[]) => Promise<void>,
  ) {}

  get size(): number {
    return this.pending.length;
  }

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        process.nextTick(() => {
          this.scheduled = false;
          void this.flush();
        });
      }
    });
  }

  /** Write everything queued now (also used on close). Never rejects: failures go to their callers. */
  async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.chunk);
      try {
        await this.write(batch.map((p) => p.item));
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
  }
}
