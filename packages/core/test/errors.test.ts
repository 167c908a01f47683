import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DecodeError,
  EncodeError,
  isTaskqError,
  SerializationError,
  TaskNotRegisteredError,
  TaskqError,
  TransportNotInstalledError,
} from '../src/errors.js';

describe('the error hierarchy', () => {
  it('gives each error a stable code and its class name', () => {
    const e = new ConfigError('bad');
    expect(e).toBeInstanceOf(TaskqError);
    expect(e.code).toBe('TASKQ_ERR_CONFIG');
    expect(e.name).toBe('ConfigError');
  });

  it('groups encoding and decoding failures under SerializationError', () => {
    expect(new EncodeError('x')).toBeInstanceOf(SerializationError);
    expect(new DecodeError('body', 'x')).toBeInstanceOf(SerializationError);
  });

  it('says what to do in the message', () => {
    expect(new TaskNotRegisteredError('email.send').message).toContain('register it with app.task("email.send", fn)');
    expect(new TransportNotInstalledError('redis', '@taskq/broker-redis').message).toContain('pnpm add @taskq/broker-redis');
  });

  it('isTaskqError matches by code, also for a copy from another instance of the package', () => {
    const foreign = Object.assign(new Error('x'), { name: 'ConfigError', code: 'TASKQ_ERR_CONFIG' });
    expect(isTaskqError(foreign)).toBe(true);
    expect(isTaskqError(foreign, 'TASKQ_ERR_CONFIG')).toBe(true);
    expect(isTaskqError(foreign, 'TASKQ_ERR_DECODE')).toBe(false);
    expect(isTaskqError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isTaskqError('TASKQ_ERR_CONFIG')).toBe(false);
  });
});
