/**
 * Python `repr()` of JSON-like values, for the display-only `argsrepr` and
 * `kwargsrepr` headers and for events, where Celery puts repr strings.
 */

const MAX_REPR = 1024;

export function pythonRepr(value: unknown): string {
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
    default:
      break;
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (value instanceof Date) return stringRepr(value.toISOString());
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([k, v]) => `${stringRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
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
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}
