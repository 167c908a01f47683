import { describe, expect, it } from 'vitest';
import { redactUrl, resolveConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

describe('resolveConfig', () => {
  it('defaults to the embedded memory:// broker and backend', () => {
    const conf = resolveConfig({}, {});
    expect(conf.brokerUrl).toBe('memory://');
    expect(conf.resultBackend).toBe('memory://');
    expect(conf.defaultQueue).toBe('celery');
    expect(conf.taskAlwaysEager).toBe(false);
    expect(conf.resultExpires).toBe(86_400);
    expect(conf.prefetchMultiplier).toBe(4);
  });

  it('reads CELERY_BROKER_URL and CELERY_RESULT_BACKEND', () => {
    const conf = resolveConfig({}, { CELERY_BROKER_URL: 'redis://h:6379/1', CELERY_RESULT_BACKEND: 'redis://h:6379/2' });
    expect(conf.brokerUrl).toBe('redis://h:6379/1');
    expect(conf.resultBackend).toBe('redis://h:6379/2');
  });

  it('prefers TASKQ_ variables over CELERY_ ones', () => {
    const conf = resolveConfig(
      {},
      { TASKQ_BROKER_URL: 'redis://taskq/0', CELERY_BROKER_URL: 'redis://celery/0', TASKQ_RESULT_BACKEND: 'redis://taskq/1', CELERY_RESULT_BACKEND: 'redis://celery/1' },
    );
    expect(conf.brokerUrl).toBe('redis://taskq/0');
    expect(conf.resultBackend).toBe('redis://taskq/1');
  });

  it('prefers explicit options over the environment', () => {
    const conf = resolveConfig({ brokerUrl: 'memory://mine', taskAlwaysEager: false }, { TASKQ_BROKER_URL: 'redis://env/0', TASKQ_TASK_ALWAYS_EAGER: '1' });
    expect(conf.brokerUrl).toBe('memory://mine');
    expect(conf.taskAlwaysEager).toBe(false);
  });

  it('treats an empty variable as unset', () => {
    expect(resolveConfig({}, { TASKQ_BROKER_URL: '', CELERY_BROKER_URL: 'redis://c/0' }).brokerUrl).toBe('redis://c/0');
  });

  it('stores results in the broker itself for Redis, over rpc:// for RabbitMQ', () => {
    expect(resolveConfig({ brokerUrl: 'redis://localhost:6379/3' }, {}).resultBackend).toBe('redis://localhost:6379/3');
    expect(resolveConfig({ brokerUrl: 'amqp://guest:guest@localhost//' }, {}).resultBackend).toBe('rpc://');
  });

  it('reads booleans and numbers from the environment', () => {
    const conf = resolveConfig({}, { TASKQ_TASK_ALWAYS_EAGER: 'true', CELERY_RESULT_EXTENDED: 'yes', TASKQ_RESULT_EXPIRES: '60', TASKQ_PREFETCH_MULTIPLIER: '1' });
    expect(conf).toMatchObject({ taskAlwaysEager: true, resultExtended: true, resultExpires: 60, prefetchMultiplier: 1 });
  });

  it.each([
    ['a boolean that is not one', {}, { TASKQ_TASK_ALWAYS_EAGER: 'maybe' }, /TASKQ_TASK_ALWAYS_EAGER="maybe" is not a boolean/],
    ['a number that is not one', {}, { TASKQ_RESULT_EXPIRES: 'soon' }, /TASKQ_RESULT_EXPIRES="soon" is not a number/],
    ['a broker URL without a scheme', { brokerUrl: 'localhost:6379' }, {}, /broker URL .* has no scheme/],
    ['a result backend without a scheme', { resultBackend: 'somewhere' }, {}, /result backend .* has no scheme/],
    ['a negative prefetch multiplier', { prefetchMultiplier: -1 }, {}, /prefetchMultiplier/],
    ['a negative result expiry', { resultExpires: -5 }, {}, /resultExpires/],
  ])('rejects %s with a ConfigError', (_what, input, env, message) => {
    expect(() => resolveConfig(input, env)).toThrow(ConfigError);
    expect(() => resolveConfig(input, env)).toThrow(message);
  });
});

describe('redactUrl', () => {
  it('masks the password and keeps the rest', () => {
    expect(redactUrl('amqp://guest:s3cret@rabbit:5672//')).toBe('amqp://guest:***@rabbit:5672//');
    expect(redactUrl('redis://:pw@localhost:6379/0')).toBe('redis://:***@localhost:6379/0');
    expect(redactUrl('memory://')).toBe('memory://');
  });
});
