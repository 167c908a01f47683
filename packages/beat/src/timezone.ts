/** The beat's time zone: option, then TASKQ_TIMEZONE / CELERY_TIMEZONE, then UTC (Celery's default). */
import { ConfigError, type Env } from '@taskq/core';

/** True when the runtime knows the IANA zone `name`. */
export function isValidTimezone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolve the time zone crontab schedules are read in. Core's app config has
 * no `timezone` yet, so the beat takes it from its own options or the
 * environment (the names Celery uses).
 */
export function resolveTimezone(option: string | undefined, env: Env = process.env): string {
  const tz = option ?? nonEmpty(env.TASKQ_TIMEZONE) ?? nonEmpty(env.CELERY_TIMEZONE) ?? 'UTC';
  if (!isValidTimezone(tz)) {
    const from = option !== undefined ? 'timezone' : env.TASKQ_TIMEZONE ? 'TASKQ_TIMEZONE' : 'CELERY_TIMEZONE';
    throw new ConfigError(`${from} ${JSON.stringify(tz)} is not a time zone this runtime knows; use an IANA name such as "UTC" or "Europe/Berlin"`);
  }
  return tz;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
