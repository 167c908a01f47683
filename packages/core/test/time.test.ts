import { describe, expect, it } from 'vitest';
import { parseIsoDate, toCeleryIso, toNaiveUtcIso } from '../src/time.js';

describe('Celery date forms', () => {
  const date = new Date('2026-11-25T06:11:15.747Z');

  it('writes eta/expires as UTC with microseconds and a +00:00 offset', () => {
    expect(toCeleryIso(date)).toBe('2026-11-25T06:11:15.747000+00:00');
  });

  it('writes date_done as naive UTC with microseconds', () => {
    expect(toNaiveUtcIso(date)).toBe('2026-11-25T06:11:15.747000');
  });
});

describe('parseIsoDate', () => {
  it.each([
    ['2026-11-25T06:11:15.747059+00:00', '2026-11-25T06:11:15.747Z'],
    ['2026-11-25T06:11:15Z', '2026-11-25T06:11:15.000Z'],
    ['2026-11-25T08:11:15.5+02:00', '2026-11-25T06:11:15.500Z'],
    ['2026-11-25T01:11-0500', '2026-11-25T06:11:00.000Z'],
    ['2026-11-25 06:11:15.747', '2026-11-25T06:11:15.747Z'],
  ])('reads %s', (text, iso) => {
    expect(parseIsoDate(text)?.toISOString()).toBe(iso);
  });

  it('reads a naive datetime as UTC', () => {
    expect(parseIsoDate('2026-11-25T06:11:15')?.toISOString()).toBe('2026-11-25T06:11:15.000Z');
  });

  it('round-trips what toCeleryIso writes', () => {
    const d = new Date('2030-02-03T04:05:06.789Z');
    expect(parseIsoDate(toCeleryIso(d))).toEqual(d);
  });

  it.each(['tomorrow', '2026-11-25', '2026-13-01T00:00:00', '2026-02-30T00:00:00', '2026-11-25T24:00:00', '', '1732515075'])(
    'returns undefined for %j',
    (text) => {
      expect(parseIsoDate(text)).toBeUndefined();
    },
  );
});
