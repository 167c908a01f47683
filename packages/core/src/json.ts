/**
 * JSON as Celery writes it, without losing integers.
 *
 * Python integers are unbounded and Celery sends them as plain JSON numbers
 * (`2**70` travels as `1180591620717411303424`). `JSON.parse` would round them,
 * so integers outside the safe range decode to `bigint`, and `bigint` encodes
 * back to plain digits. Everything else is standard JSON.
 */
import { DecodeError, EncodeError } from './errors.js';

/** A value that survives a JSON round trip with Celery. */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Parse JSON text; integers beyond ±2^53 become `bigint`. Throws {@link DecodeError}. */
export function parseJson(text: string, field = 'body'): unknown {
  try {
    const value: unknown = JSON.parse(text);
    // JSON.parse rounds integers beyond 2^53: when the parsed value holds one, parse
    // the text again keeping them exact. Checking the values is cheaper than scanning
    // the text for long digit runs (most of a message's text is strings).
    return hasUnsafeInteger(value) ? new BigIntParser(text).parseDocument() : value;
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    throw new DecodeError(field, `not valid JSON (${(error as Error).message})`, { cause: error });
  }
}

/** An integer JSON.parse may have rounded: beyond ±2^53, or so long it overflowed to ±Infinity. */
function isUnsafeInteger(n: number): boolean {
  return n > Number.MAX_SAFE_INTEGER || n < -Number.MAX_SAFE_INTEGER;
}

/** Whether a parsed JSON value holds an integer JSON.parse may have rounded (iterative: no recursion limit on deep documents). */
function hasUnsafeInteger(root: unknown): boolean {
  if (typeof root === 'number') return isUnsafeInteger(root);
  if (typeof root !== 'object' || root === null) return false;
  // No Object.values(): a key loop allocates nothing per object, and this runs on every message.
  const stack: object[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) if (unsafeOrPush(node[i], stack)) return true;
    } else {
      for (const key in node) if (unsafeOrPush((node as Record<string, unknown>)[key], stack)) return true;
    }
  }
  return false;
}

/** True for an unsafe integer; a nested object or array goes on `stack` to be looked at. */
function unsafeOrPush(v: unknown, stack: object[]): boolean {
  if (typeof v === 'number') return isUnsafeInteger(v);
  if (typeof v === 'object' && v !== null) stack.push(v);
  return false;
}

const BIGINT_MARK = '\u0000taskq:bigint:';
const BIGINT_MARK_RE = /"\\u0000taskq:bigint:(-?\d+)"/g;

/**
 * Encode a value as JSON text, refusing what would not survive the trip
 * (functions, symbols, non-finite numbers, Map/Set, cycles) with an
 * {@link EncodeError} that names the path of the bad value.
 */
export function stringifyJson(value: unknown, what = 'value'): string {
  const hasBigInt = holdsBigInt(value, what);
  if (!hasBigInt) return JSON.stringify(value) ?? 'null';
  const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? BIGINT_MARK + v.toString() : v));
  return text.replace(BIGINT_MARK_RE, '$1');
}

/**
 * Check that a value would encode, without encoding it: what a caller needs
 * before it builds a message (the transport encodes it once, later). Throws
 * the same {@link EncodeError} as {@link stringifyJson}.
 */
export function assertJsonSerialisable(value: unknown, what = 'value'): void {
  holdsBigInt(value, what);
}

/** Whether `value` holds a bigint; throws the EncodeError of {@link checkSerialisable} when it would not encode. */
function holdsBigInt(value: unknown, what: string): boolean {
  const quick = scan(value, 0);
  return quick === SCAN_UNSURE ? checkSerialisable(value, what, new Set()) : quick === SCAN_BIGINT;
}

const SCAN_PLAIN = 0;
const SCAN_BIGINT = 1;
const SCAN_UNSURE = 2;
/** Deeper than this, the quick scan hands over to the full check (which finds cycles). */
const SCAN_DEPTH = 64;

/**
 * The quick check every message, argument list and result goes through:
 * plain JSON (arrays, plain objects, strings, finite numbers, booleans, null)
 * with no path strings and no cycle set. Anything else — a bigint aside — or
 * a deep nest is SCAN_UNSURE, and {@link checkSerialisable} decides with a
 * precise error.
 */
function scan(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return SCAN_PLAIN;
    case 'number':
      return Number.isFinite(value) ? SCAN_PLAIN : SCAN_UNSURE;
    case 'bigint':
      return SCAN_BIGINT;
    case 'object':
      break;
    default:
      return SCAN_UNSURE;
  }
  if (value === null) return SCAN_PLAIN;
  if (depth >= SCAN_DEPTH) return SCAN_UNSURE;
  let result = SCAN_PLAIN;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const r = scan(value[i], depth + 1);
      if (r === SCAN_UNSURE) return r;
      result |= r;
    }
    return result;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return SCAN_UNSURE;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return SCAN_UNSURE;
  for (const key in value) {
    const r = scan((value as Record<string, unknown>)[key], depth + 1);
    if (r === SCAN_UNSURE) return r;
    result |= r;
  }
  return result;
}

function checkSerialisable(value: unknown, path: string, seen: Set<object>): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return false;
    case 'number':
      if (!Number.isFinite(value)) throw new EncodeError(`${path} is ${value}, which JSON cannot carry`);
      return false;
    case 'bigint':
      return true;
    case 'function':
    case 'symbol':
      throw new EncodeError(`${path} is a ${typeof value}, which is not JSON-serialisable; pass plain data`);
    default:
      break;
  }
  if (value === null) return false;
  const obj = value as object;
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') return false;
  if (obj instanceof Map || obj instanceof Set || obj instanceof WeakMap || obj instanceof WeakSet) {
    throw new EncodeError(`${path} is a ${obj.constructor.name}, which JSON would turn into {}; convert it to an array or object first`);
  }
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) {
    throw new EncodeError(`${path} is binary data, which JSON cannot carry; encode it (e.g. base64) first`);
  }
  if (seen.has(obj)) throw new EncodeError(`${path} refers back to itself (a cycle), which JSON cannot carry`);
  seen.add(obj);
  let big = false;
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) if (checkSerialisable(obj[i], `${path}[${i}]`, seen)) big = true;
  } else {
    for (const key of Object.keys(obj)) {
      if (checkSerialisable((obj as Record<string, unknown>)[key], `${path}.${key}`, seen)) big = true;
    }
  }
  seen.delete(obj);
  return big;
}

class BigIntParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseDocument(): unknown {
    const value = this.parseValue();
    this.skipWs();
    if (this.pos !== this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.pos}`);
  }

  private skipWs(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else break;
    }
  }

  private parseValue(): unknown {
    this.skipWs();
    const c = this.text[this.pos];
    if (c === '{') return this.parseObject();
    if (c === '[') return this.parseArray();
    if (c === '"') return this.parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.parseNumber();
    for (const [word, val] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return val;
      }
    }
    return this.fail('unexpected token');
  }

  private parseObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.skipWs();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] !== '"') this.fail('expected a string key');
      const key = this.parseString();
      this.skipWs();
      if (this.text[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      out[key] = this.parseValue();
      this.skipWs();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail('expected "," or "}"');
    }
  }

  private parseArray(): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.skipWs();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.parseValue());
      this.skipWs();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail('expected "," or "]"');
    }
  }

  private parseString(): string {
    const start = this.pos;
    this.pos++;
    const t = this.text;
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (c === '\\') this.pos += 2;
      else if (c === '"') {
        this.pos++;
        return JSON.parse(t.slice(start, this.pos)) as string;
      } else this.pos++;
    }
    return this.fail('unterminated string');
  }

  private parseNumber(): number | bigint {
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!m) return this.fail('bad number');
    this.pos += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(m[0]);
      if (!Number.isSafeInteger(n)) return BigInt(m[0]);
      return n;
    }
    return Number(m[0]);
  }
}
