/** Date helpers for Celery's ISO-8601 forms. */

/** `2026-11-25T06:11:15.747000+00:00` — the form Celery sends in `eta`/`expires` headers. */
export function toCeleryIso(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000+00:00`;
}

/** `2026-11-25T06:11:24.990000` — naive UTC, the form of `date_done` in results. */
export function toNaiveUtcIso(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000`;
}

let nowMs = Number.NaN;
let nowIso = '';

/** {@link toNaiveUtcIso} of the current time; made once per millisecond (a busy worker stores many results in one). */
export function naiveUtcNow(): string {
  const ms = Date.now();
  if (ms !== nowMs) {
    nowMs = ms;
    nowIso = toNaiveUtcIso(new Date(ms));
  }
  return nowIso;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parse an ISO-8601 datetime as Celery's `maybe_iso8601` accepts it. Naive
 * values are read as UTC (taskq's timezone for naive datetimes, Celery's
 * default `enable_utc`). Returns undefined for text that is not such a date.
 */
export function parseIsoDate(text: string): Date | undefined {
  const m = ISO_RE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const ms = frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0;
  // Date.UTC rolls 2026-13-45 over into 2027; Celery's parser refuses it, so do we.
  if (!inRange(Number(mo), 1, 12) || !inRange(Number(d), 1, 31) || !inRange(Number(h), 0, 23) || !inRange(Number(mi), 0, 59) || !inRange(Number(s ?? 0), 0, 59)) {
    return undefined;
  }
  let time = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), ms);
  if (tz && tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    time -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return undefined;
  // Day 31 of a 30-day month would also roll over: check the day survived.
  const local = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  return local.getUTCDate() === Number(d) ? date : undefined;
}

function inRange(n: number, min: number, max: number): boolean {
  return n >= min && n <= max;
}
