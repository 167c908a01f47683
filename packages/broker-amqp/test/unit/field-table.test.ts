import { EncodeError } from '@taskq/core';
import { describe, expect, it } from 'vitest';
import { toFieldTable } from '../../src/index.js';

describe('header field tables (py-amqp compatible types)', () => {
  it('writes every integer as int32 (I), never int8/int16 which py-amqp misreads', () => {
    expect(toFieldTable({ retries: 0, group_index: 300 })).toEqual({
      retries: { '!': 'int32', value: 0 },
      group_index: { '!': 'int32', value: 300 },
    });
  });

  it('writes large positive integers as int64 and non-integers as doubles', () => {
    expect(toFieldTable({ big: 2 ** 40, f: 2.5 })).toEqual({ big: { '!': 'int64', value: 2 ** 40 }, f: { '!': 'double', value: 2.5 } });
  });

  it('keeps null (void), strings, booleans, and types inside arrays and tables', () => {
    expect(toFieldTable({ timelimit: [null, 10], s: 'x', t: true, nested: { n: 1 } })).toEqual({
      timelimit: [null, { '!': 'int32', value: 10 }],
      s: 'x',
      t: true,
      nested: { n: { '!': 'int32', value: 1 } },
    });
  });

  it('drops undefined values and refuses integers beyond 2^53', () => {
    expect(toFieldTable({ a: undefined })).toEqual({});
    expect(() => toFieldTable({ huge: 2n ** 70n })).toThrow(EncodeError);
  });

  it('names the refused value by its path in the headers', () => {
    expect(() => toFieldTable({ a: { b: [1, Number.NaN] } })).toThrow('headers.a.b[1]: NaN cannot be sent as an AMQP header value');
    expect(() => toFieldTable({ fn: () => 1 }, 'arguments')).toThrow('arguments.fn: a function cannot be sent');
  });
});
