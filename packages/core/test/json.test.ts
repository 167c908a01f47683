import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../src/errors.js';
import { assertJsonSerialisable, parseJson, stringifyJson } from '../src/json.js';

describe('parseJson', () => {
  it('decodes integers beyond 2^53 as bigint instead of rounding them', () => {
    expect(parseJson('[1180591620717411303424, -1180591620717411303424, 9007199254740993]')).toEqual([
      2n ** 70n,
      -(2n ** 70n),
      9007199254740993n,
    ]);
  });

  it('keeps safe integers and floats as numbers, even next to a big integer', () => {
    expect(parseJson('{"big": 12345678901234567890, "n": 42, "f": 0.1234567890123456789, "neg": -2.5e-3}')).toEqual({
      big: 12345678901234567890n,
      n: 42,
      f: 0.12345678901234568,
      neg: -0.0025,
    });
  });

  it('decodes unicode and escapes, also when the text holds long digit runs', () => {
    expect(parseJson('{"s": "h\\u00e9llo \u2713 12345678901234567890 \\"q\\"", "k\\n": [true, false, null]}')).toEqual({
      s: 'héllo ✓ 12345678901234567890 "q"',
      'k\n': [true, false, null],
    });
  });

  it('finds a big integer however deep it sits, and parses very deep documents without one', () => {
    expect(parseJson('{"headers": {"x": [[{"n": 9007199254740993}]]}}')).toEqual({ headers: { x: [[{ n: 9007199254740993n }]] } });
    const depth = 50_000;
    const deep = parseJson(`${'['.repeat(depth)}1${']'.repeat(depth)}`);
    let level = 0;
    for (let v: unknown = deep; Array.isArray(v); v = v[0]) level++;
    expect(level).toBe(depth);
  });

  it('keeps integers too long for a double (JSON.parse would make them Infinity) exact', () => {
    const huge = `${'9'.repeat(320)}`;
    expect(parseJson(`[${huge}, -${huge}]`)).toEqual([BigInt(huge), -BigInt(huge)]);
  });

  it('keeps 2^53 exactly and leaves big floats in exponent form as numbers', () => {
    expect(parseJson('[9007199254740992, 9007199254740991, 1e300, 1.5e20]')).toEqual([9007199254740992n, 9007199254740991, 1e300, 1.5e20]);
  });

  it.each(['[1, 2', '{"a": 1} x', '12345678901234567890 x', "{'a': 1}", ''])('rejects %j with a DecodeError on the given field', (text) => {
    expect(() => parseJson(text, 'result')).toThrow(DecodeError);
    try {
      parseJson(text, 'result');
    } catch (error) {
      expect((error as DecodeError).field).toBe('result');
    }
  });
});

describe('stringifyJson', () => {
  it('encodes bigints, class instances and Dates however deep they sit, and names the path of a bad value there', () => {
    let deep: unknown = { n: 2n ** 70n, at: new Date(0), p: new (class Point { x = 1; })() };
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(stringifyJson(deep)).toBe(`${'['.repeat(100)}{"n":1180591620717411303424,"at":"1970-01-01T00:00:00.000Z","p":{"x":1}}${']'.repeat(100)}`);
    let bad: unknown = { f: Number.NaN };
    for (let i = 0; i < 100; i++) bad = [bad];
    expect(() => stringifyJson(bad, 'args')).toThrow(`args${'[0]'.repeat(100)}.f is NaN`);
  });

  it('writes bigints as plain JSON integers, as Python sends them', () => {
    expect(stringifyJson({ big: 2n ** 70n, list: [-(2n ** 70n)] })).toBe('{"big":1180591620717411303424,"list":[-1180591620717411303424]}');
  });

  it('round-trips bigints, unicode and floats', () => {
    const value = { big: 2n ** 70n, u: 'héllo ✓ 𝄞 日本', f: [0.1, -1e-7, 1.7976931348623157e308], n: null, t: true };
    expect(parseJson(stringifyJson(value))).toEqual(value);
  });

  it('uses toJSON, so Dates travel as ISO strings', () => {
    expect(stringifyJson([new Date('2026-01-01T00:00:00Z')])).toBe('["2026-01-01T00:00:00.000Z"]');
  });

  it.each([
    ['a function', { a: [1, () => 1] }, 'args.a[1]'],
    ['a symbol', { s: Symbol('x') }, 'args.s'],
    ['NaN', [Number.NaN], 'args[0]'],
    ['Infinity', { n: { m: Number.POSITIVE_INFINITY } }, 'args.n.m'],
    ['a Map', { m: new Map([[1, 2]]) }, 'args.m'],
    ['a Set', [new Set([1])], 'args[0]'],
    ['binary data', { b: new Uint8Array(2) }, 'args.b'],
  ])('rejects %s with an EncodeError naming its path', (_what, value, path) => {
    expect(() => stringifyJson(value, 'args')).toThrow(EncodeError);
    expect(() => stringifyJson(value, 'args')).toThrow(path);
  });

  it('rejects a cycle with an EncodeError naming where it loops', () => {
    const value: Record<string, unknown> = { a: { b: [] as unknown[] } };
    ((value.a as Record<string, unknown>).b as unknown[]).push(value);
    expect(() => stringifyJson(value, 'args')).toThrow(/args\.a\.b\[0\] refers back to itself/);
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(stringifyJson([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });
});

describe('assertJsonSerialisable', () => {
  it('accepts what stringifyJson encodes, bigints included, without producing text', () => {
    expect(assertJsonSerialisable({ a: [1, 'x', null, 2n ** 70n] }, 'args')).toBeUndefined();
  });

  it('refuses what stringifyJson refuses, naming the same path', () => {
    const value = { fn: () => 1 };
    expect(() => assertJsonSerialisable(value, 'args')).toThrow(EncodeError);
    expect(() => assertJsonSerialisable(value, 'args')).toThrow(/args\.fn is a function/);
  });
});
