/**
 * kombu's Redis key layout, byte for byte (celery-protocol.md §2): the names
 * and separators a Python Celery worker or producer uses on the same Redis.
 * Every key goes through {@link KombuLayout} so `global_keyprefix` is applied
 * in exactly one place.
 */

/** kombu's separator between a queue name and its priority step, and inside binding members. */
export const SEP = '\x06\x16';
/** kombu's default `priority_steps`: 0–2 → band 0, 3–5 → 3, 6–8 → 6, 9+ → 9. */
export const DEFAULT_PRIORITY_STEPS: readonly number[] = Object.freeze([0, 3, 6, 9]);
/** The hash of unacknowledged envelopes, by delivery tag (`unacked_key`). */
export const UNACKED_KEY = 'unacked';
/** The sorted set of delivery tags scored by delivery time (`unacked_index_key`). */
export const UNACKED_INDEX_KEY = 'unacked_index';
/** The lock held while restoring timed-out deliveries (`unacked_mutex_key`). */
export const UNACKED_MUTEX_KEY = 'unacked_mutex';
/** Binding sets: `_kombu.binding.<exchange>` (`keyprefix_queue`). */
export const BINDING_KEY_PREFIX = '_kombu.binding.';
/** kombu's default `visibility_timeout`, seconds. */
export const DEFAULT_VISIBILITY_TIMEOUT = 3600;
/**
 * taskq's default `unacked_mutex_expire`, seconds (kombu's is 300). Each
 * restore is a compare-and-move of one entry, so the mutex only saves
 * duplicate work; a short expiry means a worker killed while restoring holds
 * up restores for seconds, not five minutes.
 */
export const DEFAULT_UNACKED_MUTEX_EXPIRE = 15;
/** taskq's dead-letter list (not a kombu key: kombu has none). */
export const DEAD_LETTER_KEY = 'taskq.dead';
/** Channel prefix of taskq's wake-up notifications (`<prefix>taskq.wake.<queue>`). */
export const WAKE_CHANNEL_PREFIX = 'taskq.wake.';
/** Celery's Redis result key prefix. */
export const RESULT_KEY_PREFIX = 'celery-task-meta-';

/** The band (priority step) a message priority lands in: `max(step <= p)`, missing/invalid → lowest step. */
export function priorityStep(priority: unknown, steps: readonly number[] = DEFAULT_PRIORITY_STEPS): number {
  const p = typeof priority === 'number' && Number.isFinite(priority) ? priority : 0;
  let chosen = steps[0] ?? 0;
  for (const step of steps) if (step <= p) chosen = step;
  return chosen;
}

/** Key names for one `global_keyprefix` and set of priority steps. */
export class KombuLayout {
  readonly unacked: string;
  readonly unackedIndex: string;
  readonly unackedMutex: string;
  readonly deadLetter: string;

  constructor(
    readonly keyPrefix = '',
    readonly prioritySteps: readonly number[] = DEFAULT_PRIORITY_STEPS,
  ) {
    if (prioritySteps.length === 0) throw new RangeError('priority_steps must list at least one step');
    this.unacked = keyPrefix + UNACKED_KEY;
    this.unackedIndex = keyPrefix + UNACKED_INDEX_KEY;
    this.unackedMutex = keyPrefix + UNACKED_MUTEX_KEY;
    this.deadLetter = keyPrefix + DEAD_LETTER_KEY;
  }

  /** The list holding a queue's messages of one priority step (step 0 has no suffix, as in kombu). */
  bandKey(queue: string, step: number): string {
    return step === 0 ? this.keyPrefix + queue : `${this.keyPrefix}${queue}${SEP}${step}`;
  }

  /** The list a message of `priority` is pushed to. */
  queueKeyFor(queue: string, priority: unknown): string {
    return this.bandKey(queue, priorityStep(priority, this.prioritySteps));
  }

  /** All lists of a queue, highest priority (lowest step) first. */
  bandKeys(queue: string): string[] {
    return this.prioritySteps.map((s) => this.bandKey(queue, s));
  }

  /** `_kombu.binding.<exchange>` (for the anonymous exchange kombu uses the queue name). */
  bindingKey(exchange: string): string {
    return `${this.keyPrefix}${BINDING_KEY_PREFIX}${exchange}`;
  }

  /** The binding member kombu writes for a queue: `routing_key SEP pattern SEP queue`. */
  static bindingMember(routingKey: string, queue: string, pattern = ''): string {
    return `${routingKey}${SEP}${pattern}${SEP}${queue}`;
  }

  /** taskq's wake-up channel for a queue (taskq producers PUBLISH on it after LPUSH). */
  wakeChannel(queue: string): string {
    return `${this.keyPrefix}${WAKE_CHANNEL_PREFIX}${queue}`;
  }
}
