import { describe, expect, it } from 'vitest';
import { argsRepr, kwargsRepr, pythonRepr } from '../src/python-repr.js';

// Expected values are what CPython's repr() prints for the same data.
describe('pythonRepr', () => {
  it.each([
    [null, 'None'],
    [true, 'True'],
    [false, 'False'],
    [3, '3'],
    [2.5, '2.5'],
    [-0.5, '-0.5'],
    [1e-7, '1e-07'],
    [1e21, '1e+21'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1180591620717411303424n, '1180591620717411303424'],
  ])('writes %s as %s', (value, expected) => {
    expect(pythonRepr(value)).toBe(expected);
  });

  it.each([
    ["it's", `"it's"`],
    ['say "hi"', `'say "hi"'`],
    [`both ' and "`, `'both \\' and "'`],
    ['tab\there\nnl', "'tab\\there\\nnl'"],
    ['back\\slash', "'back\\\\slash'"],
    ['bell\x07', "'bell\\x07'"],
    ['del\x7f', "'del\\x7f'"],
    ['c1\x85', "'c1\\x85'"],
    ['nbsp\xa0x', "'nbsp\\xa0x'"],
    ['zw\u200bsp', "'zw\\u200bsp'"],
    ['ls\u2028x', "'ls\\u2028x'"],
    ['emoji 😀 日本 é', "'emoji 😀 日本 é'"],
  ])('quotes and escapes the string %j as Python does', (value, expected) => {
    expect(pythonRepr(value)).toBe(expected);
  });

  it('writes lists and dicts with Python spacing and literals', () => {
    expect(pythonRepr({ u: 'héllo ✓', n: [1, 2.5, null, true], big: 1180591620717411303424n })).toBe(
      "{'u': 'héllo ✓', 'n': [1, 2.5, None, True], 'big': 1180591620717411303424}",
    );
  });

  it('shows a container that contains itself as [...] instead of overflowing the stack', () => {
    const a: unknown[] = [1];
    a.push(a);
    expect(pythonRepr(a)).toBe('[1, [...]]');
  });
});

describe('argsRepr and kwargsRepr', () => {
  it('writes positional arguments as a tuple, with the one-element comma', () => {
    expect(argsRepr([])).toBe('()');
    expect(argsRepr(['boom ✗'])).toBe("('boom ✗',)");
    expect(argsRepr([2, 3])).toBe('(2, 3)');
  });

  it('writes keyword arguments as a dict', () => {
    expect(kwargsRepr({})).toBe('{}');
    expect(kwargsRepr({ to: 'a@b.c', n: 2 })).toBe("{'to': 'a@b.c', 'n': 2}");
  });

  it('truncates a long repr to 1024 characters ending in ...', () => {
    const text = argsRepr(['x'.repeat(5000)]);
    expect(text).toHaveLength(1024);
    expect(text.endsWith('...')).toBe(true);
  });
});
