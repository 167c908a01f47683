/**
 * Header values for the AMQP field table, typed so Python's py-amqp reads
 * them back as what they were (celery-protocol.md §3.2).
 *
 * amqplib picks the smallest integer type for a JS number: `b` (int8) and
 * `s` (int16). py-amqp reads `b` as *unsigned* and `s` as a *short string*,
 * so `retries: 200` would reach a Python worker as garbage. Every integer is
 * therefore written as `I` (int32), or `l` (int64) beyond ±2^31, as py-amqp
 * itself does; non-integers as `d` (double). `null` → `V`, arrays → `A`,
 * objects → `F`, strings → `S`, booleans → `t` (amqplib's own choices, all
 * read by py-amqp).
 */
import { EncodeError } from '@taskq/core';

type Typed = { '!': string; value: unknown };

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/** Convert a header object into a field table amqplib encodes with py-amqp-compatible type tags. */
export function toFieldTable(headers: Record<string, unknown>, path = 'headers'): Record<string, unknown> {
  return toTable(headers, path, undefined);
}

/**
 * Runs on every publish, so the path of a value (for error messages) is kept as
 * its parts and joined only when a value is refused.
 */
interface Where {
  parent: Where | string;
  key: string | number;
}

function pathOf(where: Where | string): string {
  if (typeof where === 'string') return where;
  return typeof where.key === 'number' ? `${pathOf(where.parent)}[${where.key}]` : `${pathOf(where.parent)}.${where.key}`;
}

function toTable(headers: Record<string, unknown>, path: string, where: Where | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in headers) {
    if (!Object.hasOwn(headers, key)) continue;
    const value = headers[key];
    if (value === undefined) continue;
    out[key] = toFieldValue(value, where ?? path, key);
  }
  return out;
}

function toFieldValue(value: unknown, parent: Where | string, key: string | number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return typedNumber(value, parent, key);
    case 'bigint':
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new EncodeError(`${pathOf({ parent, key })}: integer ${value} is beyond 2^53 and cannot travel in an AMQP header; put it in the task arguments instead`);
      }
      return typedNumber(Number(value), parent, key);
    case 'object': {
      if (value === null) return null;
      if (Buffer.isBuffer(value)) return value;
      // amqplib's own typed values ({'!': 'timestamp', value}), e.g. from a header read off another message.
      if (Object.hasOwn(value, '!')) return value;
      const where: Where = { parent, key };
      if (Array.isArray(value)) {
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) out[i] = value[i] === undefined ? null : toFieldValue(value[i], where, i);
        return out;
      }
      return toTable(value as Record<string, unknown>, '', where);
    }
    default:
      throw new EncodeError(`${pathOf({ parent, key })}: a ${typeof value} cannot be sent as an AMQP header value`);
  }
}

function typedNumber(n: number, parent: Where | string, key: string | number): Typed {
  if (Number.isInteger(n)) {
    if (n >= INT32_MIN && n <= INT32_MAX) return { '!': 'int32', value: n };
    // py-amqp reads `l` as unsigned 64-bit: exact for positive values; a large negative integer travels as a double.
    return n > 0 ? { '!': 'int64', value: n } : { '!': 'double', value: n };
  }
  if (!Number.isFinite(n)) throw new EncodeError(`${pathOf({ parent, key })}: ${n} cannot be sent as an AMQP header value`);
  return { '!': 'double', value: n };
}
