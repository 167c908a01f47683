/**
 * Python `repr()` of JSON-like values, for the display-only `argsrepr` and
 * `kwargsrepr` headers and for events, where Celery puts repr strings.
 */

const MAX_REPR = 1024;

export function pythonRepr(value: unknown): string {
  return repr(value, new Set());
}

function repr(value: unknown, seen: Set<object>): string {
  if (value === null || value === undefined) return 'None';
  switch (typeof value) {
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
      if (Number.isInteger(value)) return String(value);
      return String(value).replace(/e([+-])(\d)$/, 'e$10$2');
    case 'bigint':
      return value.toString();
    case 'string':
      return stringRepr(value);
    case 'function':
    case 'symbol':
      // Never sent (the encoder refuses them), but repr must not throw while a message is built.
      return `<${typeof value}>`;
    default:
      break;
  }
  if (value instanceof Date) return stringRepr(value.toISOString());
  const obj = value as object;
  // Python shows a container that contains itself as [...] / {...}; recursing would overflow the stack.
  if (seen.has(obj)) return Array.isArray(obj) ? '[...]' : '{...}';
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return `[${obj.map((v) => repr(v, seen)).join(', ')}]`;
    const entries = Object.entries(obj as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `${stringRepr(k)}: ${repr(v, seen)}`).join(', ')}}`;
  } finally {
    seen.delete(obj);
  }
}

/** repr of a tuple of positional arguments: `(2, 3)`, `(1,)`, `()`. */
export function argsRepr(args: readonly unknown[]): string {
  const inner = args.map(pythonRepr).join(', ');
  return truncate(args.length === 1 ? `(${inner},)` : `(${inner})`);
}

export function kwargsRepr(kwargs: Record<string, unknown>): string {
  return truncate(pythonRepr(kwargs));
}

function truncate(text: string): string {
  return text.length > MAX_REPR ? `${text.slice(0, MAX_REPR - 3)}...` : text;
}

/** Characters Python's `str.isprintable()` rejects (other than space), which `repr()` escapes. */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function stringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) out += escapeCodePoint(code);
    else out += ch;
  }
  return out + quote;
}

function escapeCodePoint(code: number): string {
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}
