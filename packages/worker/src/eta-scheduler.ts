/**
 * Holds eta/countdown tasks in memory until they are due, as Celery's worker
 * does: the message stays unacknowledged (the broker gets it back if the
 * worker goes away) and takes no concurrency slot while it waits.
 */

/** setTimeout's ceiling (~24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Held<T> {
  item: T;
  dueAt: number;
  timer: NodeJS.Timeout;
}

export class EtaScheduler<T> {
  private readonly held = new Set<Held<T>>();

  /** `onDue` receives each item when its time comes (never after `drain()`). */
  constructor(private readonly onDue: (item: T) => void) {}

  /** Items waiting for their time. */
  get size(): number {
    return this.held.size;
  }

  /** Hold `item` until `dueAt` (ms since the epoch). */
  hold(item: T, dueAt: number): void {
    const entry: Held<T> = { item, dueAt, timer: undefined as unknown as NodeJS.Timeout };
    this.arm(entry);
    this.held.add(entry);
  }

  /** Take one item out (revoked while held); false when it is not held. */
  remove(item: T): boolean {
    for (const h of this.held) {
      if (h.item !== item) continue;
      clearTimeout(h.timer);
      this.held.delete(h);
      return true;
    }
    return false;
  }

  /** Take every held item out (shutdown); their timers are cancelled. */
  drain(): T[] {
    const items = [...this.held].map((h) => {
      clearTimeout(h.timer);
      return h.item;
    });
    this.held.clear();
    return items;
  }

  private arm(entry: Held<T>): void {
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, entry.dueAt - Date.now()));
    entry.timer = setTimeout(() => {
      if (!this.held.has(entry)) return;
      if (Date.now() < entry.dueAt) {
        this.arm(entry);
        return;
      }
      this.held.delete(entry);
      this.onDue(entry.item);
    }, delay);
  }
}
