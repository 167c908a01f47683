import { ConfigError } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { crontab, every } from '../src/index.js';
import { at, iso } from './helpers/recording-app.js';

/** The next `n` runs after `from`, as ISO strings. */
function runs(schedule: { nextAfter(t: number, tz: string): number }, from: string, n: number, tz = 'UTC'): string[] {
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) {
    t = schedule.nextAfter(t, tz);
    out.push(iso(t));
  }
  return out;
}

describe('every()', () => {
  it('takes seconds or a duration string', () => {
    expect(every(15).seconds).toBe(15);
    expect(every('30s').seconds).toBe(30);
    expect(every('5m').seconds).toBe(300);
    expect(every('1h').seconds).toBe(3600);
    expect(every('250ms').seconds).toBe(0.25);
  });

  it('runs on a grid, one interval apart', () => {
    expect(runs(every(15), '2025-01-01T00:00:07Z', 3)).toEqual(['2025-01-01T00:00:15Z', '2025-01-01T00:00:30Z', '2025-01-01T00:00:45Z']);
  });

  it('is due at the latest slot only, however many were missed', () => {
    const s = every(10);
    expect(s.dueSlot(at('2025-01-01T00:00:00Z'), at('2025-01-01T00:00:09Z'))).toBeUndefined();
    expect(iso(s.dueSlot(at('2025-01-01T00:00:00Z'), at('2025-01-01T00:05:03Z'))!)).toBe('2025-01-01T00:05:00Z');
  });

  it('keeps a bad interval until validated, then throws a ConfigError', () => {
    for (const bad of [0, -5, 'soon', '0s']) {
      const s = every(bad);
      expect(() => s.validate(), String(bad)).toThrow(ConfigError);
    }
  });
});

describe('crontab()', () => {
  it('defaults every field to *', () => {
    expect(crontab().expression).toBe('* * * * *');
    expect(runs(crontab(), '2025-01-01T00:00:30Z', 2)).toEqual(['2025-01-01T00:01:00Z', '2025-01-01T00:02:00Z']);
  });

  it('runs daily at midnight with { minute: 0, hour: 0 }', () => {
    expect(runs(crontab({ minute: 0, hour: 0 }), '2025-01-01T00:00:00Z', 2)).toEqual(['2025-01-02T00:00:00Z', '2025-01-03T00:00:00Z']);
  });

  it("understands Celery's string forms", () => {
    expect(crontab({ minute: '*/15' }).expression).toBe('*/15 * * * *');
    expect(runs(crontab({ minute: '*/15' }), '2025-01-01T10:07:00Z', 2)).toEqual(['2025-01-01T10:15:00Z', '2025-01-01T10:30:00Z']);
    expect(crontab({ minute: 30, hour: 7, dayOfWeek: 'mon-fri' }).expression).toBe('30 7 * * 1-5');
    expect(crontab({ dayOfMonth: '1,15', minute: '0', hour: '0' }).expression).toBe('0 0 1,15 * *');
    expect(crontab({ dayOfWeek: 'Saturday,sun' }).expression).toBe('* * * * 6,0');
    expect(crontab({ monthOfYear: 'jan-mar', minute: [0, 30] }).expression).toBe('0,30 * * 1-3 *');
  });

  it('runs weekdays only with dayOfWeek mon-fri (2025-01-03 is a Friday)', () => {
    expect(runs(crontab({ minute: 30, hour: 7, dayOfWeek: 'mon-fri' }), '2025-01-03T08:00:00Z', 2)).toEqual([
      '2025-01-06T07:30:00Z',
      '2025-01-07T07:30:00Z',
    ]);
  });

  it("requires BOTH dayOfMonth and dayOfWeek when both are set (Celery's rule, not cron's OR)", () => {
    // Friday the 13th: June 2025, then February 2026.
    expect(runs(crontab({ minute: 0, hour: 0, dayOfMonth: 13, dayOfWeek: 'fri' }), '2025-01-01T00:00:00Z', 2)).toEqual([
      '2025-06-13T00:00:00Z',
      '2026-02-13T00:00:00Z',
    ]);
  });

  it('reads times in the given time zone', () => {
    expect(runs(crontab({ minute: 0, hour: 9 }), '2025-01-01T00:00:00Z', 1, 'America/New_York')).toEqual(['2025-01-01T14:00:00Z']);
  });

  it('is due at the latest missed slot only', () => {
    const s = crontab({ minute: 0 });
    expect(iso(s.dueSlot(at('2025-01-01T00:00:00Z'), at('2025-01-01T05:30:00Z'), 'UTC')!)).toBe('2025-01-01T05:00:00Z');
    expect(s.dueSlot(at('2025-01-01T05:00:00Z'), at('2025-01-01T05:59:59Z'), 'UTC')).toBeUndefined();
  });

  it('finds the latest slot after a very long downtime of a frequent schedule', () => {
    const s = crontab({ minute: '*' });
    expect(iso(s.dueSlot(at('2024-01-01T00:00:00Z'), at('2025-01-01T05:30:30Z'), 'UTC')!)).toBe('2025-01-01T05:30:00Z');
  });

  it.each([
    [{ minute: 61 }, /minute 61/],
    [{ hour: 24 }, /hour 24/],
    [{ dayOfWeek: 'someday' }, /unknown name "someday"/],
    [{ dayOfMonth: 0 }, /dayOfMonth 0/],
    [{ monthOfYear: 13 }, /monthOfYear 13/],
    [{ dayOfWeek: '1#2' }, /only numbers, names/],
    [{ dayOfMonth: 30, monthOfYear: 2 }, /never fires/],
  ])('rejects %j with a ConfigError when validated', (fields, message) => {
    const s = crontab(fields);
    expect(() => s.validate()).toThrow(ConfigError);
    expect(() => s.validate()).toThrow(message);
  });
});

describe('crontab() across daylight-saving changes (Europe/Berlin)', () => {
  const daily0230 = crontab({ minute: 30, hour: 2 });
  const tz = 'Europe/Berlin';

  it('runs a 02:30 job once on the spring-forward day, at 03:30 local (02:30 does not exist)', () => {
    expect(runs(daily0230, '2025-03-29T12:00:00Z', 2, tz)).toEqual(['2025-03-30T01:30:00Z', '2025-03-31T00:30:00Z']);
  });

  it('runs a 02:30 job once on the fall-back day (02:30 happens twice)', () => {
    expect(runs(daily0230, '2025-10-25T12:00:00Z', 2, tz)).toEqual(['2025-10-26T00:30:00Z', '2025-10-27T01:30:00Z']);
  });

  it('does not find a second 02:30 slot inside the repeated hour', () => {
    // Last run at the first 02:30 (CEST); now is 02:45 CET, after the second 02:30.
    expect(daily0230.dueSlot(at('2025-10-26T00:30:00Z'), at('2025-10-26T01:45:00Z'), tz)).toBeUndefined();
  });

  it('keeps an hourly job hourly in real time through the repeated hour', () => {
    expect(runs(crontab({ minute: 0 }), '2025-10-25T23:30:00Z', 4, tz)).toEqual([
      '2025-10-26T00:00:00Z',
      '2025-10-26T01:00:00Z',
      '2025-10-26T02:00:00Z',
      '2025-10-26T03:00:00Z',
    ]);
  });
});
