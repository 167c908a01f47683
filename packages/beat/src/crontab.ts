/**
 * `crontab({ minute, hour, dayOfWeek, dayOfMonth, monthOfYear })` with
 * Celery's semantics, computed in the beat's time zone by cron-parser.
 *
 * Celery's rule for days: when both `dayOfMonth` and `dayOfWeek` are given,
 * a day must match BOTH (classic cron runs when either matches). So
 * `crontab({ dayOfMonth: 13, dayOfWeek: 'fri' })` is Friday the 13th only.
 */
import { ConfigError } from '@taskq/core';
import { CronExpressionParser } from 'cron-parser';
import type { Schedule } from './schedule.js';

/** One crontab field: a number, a list of numbers, or a cron string (`'*'`, `'*\/15'`, `'1,15'`, `'mon-fri'`). */
export type CrontabField = number | readonly number[] | string;

export interface CrontabFields {
  /** 0–59 (default `'*'`). */
  minute?: CrontabField;
  /** 0–23 (default `'*'`). */
  hour?: CrontabField;
  /** 0–6 with 0 = Sunday, or names: `'mon-fri'`, `'sat,sun'` (default `'*'`). */
  dayOfWeek?: CrontabField;
  /** 1–31 (default `'*'`). */
  dayOfMonth?: CrontabField;
  /** 1–12 or names `jan`–`dec` (default `'*'`). */
  monthOfYear?: CrontabField;
}

const DAY_NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const MONTH_NAMES: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
/** Full or three-letter names (`monday`, `mon`, `tues`, `thurs`). */
const NAME = /[a-z]+/gi;

/** After this many steps through missed slots, restart the walk close to now. */
const MAX_WALK = 10_000;
const TWO_DAYS = 2 * 86_400_000;

function fieldText(name: keyof CrontabFields, value: CrontabField | undefined, names?: Record<string, number>): string {
  if (value === undefined) return '*';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) throw new ConfigError(`crontab ${name}: an empty list never matches; use '*' for any`);
    return value.map(String).join(',');
  }
  if (typeof value !== 'string') throw new ConfigError(`crontab ${name}: expected a number, a list of numbers or a string, got ${typeof value}`);
  let text = value.trim().replace(/\s*,\s*/g, ',');
  if (text === '') throw new ConfigError(`crontab ${name}: empty string; use '*' for any`);
  if (/[HhLl#?]/.test(text.replace(NAME, ''))) throw new ConfigError(`crontab ${name} ${JSON.stringify(value)}: only numbers, names, '*', ',', '-' and '/' are allowed`);
  text = text.replace(NAME, (word) => {
    const key = word.toLowerCase().slice(0, 3);
    const n = names?.[key];
    if (n === undefined) throw new ConfigError(`crontab ${name} ${JSON.stringify(value)}: unknown name ${JSON.stringify(word)}`);
    return String(n);
  });
  return text;
}

/** A checked crontab: the expression cron-parser walks, and the weekdays checked on top of it. */
interface CompiledCrontab {
  /** The five cron fields, numbers only (`minute hour dayOfMonth month dayOfWeek`). */
  expression: string;
  /** The expression handed to cron-parser (day of week left out when it is checked separately). */
  parserExpression: string;
  /** Weekdays a day must also fall on (Celery's AND rule), when both day fields are restricted. */
  alsoWeekdays: ReadonlySet<number> | undefined;
}

function compile(fields: CrontabFields): CompiledCrontab {
  const minute = fieldText('minute', fields.minute);
  const hour = fieldText('hour', fields.hour);
  const dom = fieldText('dayOfMonth', fields.dayOfMonth);
  const month = fieldText('monthOfYear', fields.monthOfYear, MONTH_NAMES);
  const dow = fieldText('dayOfWeek', fields.dayOfWeek, DAY_NAMES);
  const checks: Array<[keyof CrontabFields, string]> = [
    ['minute', `${minute} * * * *`],
    ['hour', `0 ${hour} * * *`],
    ['dayOfMonth', `0 0 ${dom} * *`],
    ['monthOfYear', `0 0 1 ${month} *`],
    ['dayOfWeek', `0 0 * * ${dow}`],
  ];
  for (const [name, expr] of checks) {
    try {
      CronExpressionParser.parse(expr);
    } catch (error) {
      throw new ConfigError(`crontab ${name} ${JSON.stringify(fields[name] ?? '*')}: ${(error as Error).message}`, { cause: error });
    }
  }
  const expression = `${minute} ${hour} ${dom} ${month} ${dow}`;
  if (dom === '*' || dow === '*') return { expression, parserExpression: expression, alsoWeekdays: undefined };
  const days = CronExpressionParser.parse(`0 0 * * ${dow}`).fields.dayOfWeek.values.map((d) => Number(d) % 7);
  return { expression, parserExpression: `${minute} ${hour} ${dom} ${month} *`, alsoWeekdays: new Set(days) };
}

function nextFire(c: CompiledCrontab, t: number, timezone: string): number {
  const it = CronExpressionParser.parse(c.parserExpression, { currentDate: new Date(t), tz: timezone });
  // 28 years of candidate days cover every weekday/date combination.
  for (let i = 0; i < 28 * 366; i++) {
    const next = it.next();
    if (!c.alsoWeekdays || c.alsoWeekdays.has(next.getDay())) return next.getTime();
  }
  throw new ConfigError(`crontab ${JSON.stringify(c.expression)}: no day matches both dayOfMonth and dayOfWeek`);
}

/** A crontab schedule. Build it with {@link crontab}. */
export class CrontabSchedule implements Schedule {
  readonly kind = 'crontab' as const;
  /** The five cron fields, numbers only (`minute hour dayOfMonth month dayOfWeek`); empty when invalid. */
  readonly expression: string;
  private readonly compiled: CompiledCrontab | undefined;
  private readonly error: ConfigError | undefined;

  constructor(fields: CrontabFields = {}) {
    try {
      const compiled = compile(fields);
      // A schedule that never fires (30 February) is a configuration error, found now rather than never.
      try {
        nextFire(compiled, Date.UTC(2000, 0, 1), 'UTC');
      } catch (error) {
        throw new ConfigError(`crontab ${JSON.stringify(compiled.expression)} never fires: ${(error as Error).message}`, { cause: error });
      }
      this.compiled = compiled;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.error = error;
    }
    this.expression = this.compiled?.expression ?? '';
  }

  validate(): void {
    if (this.error) throw this.error;
  }

  nextAfter(t: number, timezone: string): number {
    this.validate();
    return nextFire(this.compiled!, t, timezone);
  }

  dueSlot(after: number, now: number, timezone: string): number | undefined {
    let slot = this.nextAfter(after, timezone);
    if (slot > now) return undefined;
    // Walk forward rather than asking cron-parser for the previous fire time:
    // walking is how the next run was computed, so a repeated wall-clock hour
    // (DST fall-back) cannot produce a second slot for the same day.
    for (let steps = 0; ; steps++) {
      if (steps === MAX_WALK) {
        // Long downtime on a frequent schedule: frequent schedules have slots within two days of now.
        steps = 0;
        const near = this.nextAfter(Math.max(slot, now - TWO_DAYS), timezone);
        if (near <= now) slot = near;
      }
      const next = this.nextAfter(slot, timezone);
      if (next > now) return slot;
      slot = next;
    }
  }

  toString(): string {
    return `crontab(${this.expression})`;
  }
}

/**
 * A crontab schedule with Celery's field names and defaults (`'*'`):
 * `crontab({ minute: 0, hour: 0 })` is daily at midnight,
 * `crontab({ minute: '*\/15' })` every quarter hour,
 * `crontab({ hour: 7, minute: 30, dayOfWeek: 'mon-fri' })` weekdays at 07:30.
 * Times are in the beat's time zone (`timezone`, default UTC).
 */
export function crontab(fields: CrontabFields = {}): CrontabSchedule {
  return new CrontabSchedule(fields);
}
