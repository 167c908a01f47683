/**
 * Strict flag parsing over `node:util` parseArgs, and the value parsers every
 * command shares. All failures are {@link UsageError}s naming the flag, so the
 * user sees what to fix and the process exits with code 2.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel, parseJson } from '@taskq/core';
import { type CommandName, UsageError, usage } from './usage.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `--help` is accepted by every command. */
const HELP: Options = { help: { type: 'boolean', short: 'h' } };

export interface ParsedFlags {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Parse a command's argv strictly: unknown flags and missing values are usage errors. */
export function parseFlags(command: CommandName, argv: string[], options: Options, maxPositionals: number): ParsedFlags {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: { ...HELP, ...options }, strict: true, allowPositionals: true });
  } catch (error) {
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes; their messages already name the flag.
    if (error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) {
      // Keep the first sentence: the rest explains `--` for positionals, noise for a typo.
      throw new UsageError(error.message.split('. To specify')[0]!, command);
    }
    throw error;
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`, command);
  }
  return { values: parsed.values as ParsedFlags['values'], positionals: parsed.positionals };
}

/** With `--help`, print the command's usage and return true (the command then exits 0). */
export function printedHelp(command: CommandName, flags: ParsedFlags): boolean {
  if (!flags.values.help) return false;
  process.stdout.write(`${usage(command)}\n`);
  return true;
}

/** A string flag's value, or undefined when absent. */
export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const v = flags.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** An integer flag within `[min, max]`. */
export function intFlag(command: CommandName, flags: ParsedFlags, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${name} must be an integer ${range}, got ${JSON.stringify(text)}`, command);
  }
  return n;
}

/** A non-negative number of seconds (fractions allowed). */
export function secondsFlag(command: CommandName, flags: ParsedFlags, name: string): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--${name} must be a non-negative number of seconds, got ${JSON.stringify(text)}`, command);
  }
  return n;
}

/** A JSON flag that must decode to an array (`kind: 'array'`) or a plain object (`kind: 'object'`). */
export function jsonFlag(command: CommandName, flags: ParsedFlags, name: string, kind: 'array'): unknown[] | undefined;
export function jsonFlag(command: CommandName, flags: ParsedFlags, name: string, kind: 'object'): Record<string, unknown> | undefined;
export function jsonFlag(command: CommandName, flags: ParsedFlags, name: string, kind: 'array' | 'object'): unknown {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    // core's parser keeps integers beyond 2^53 exact (as bigint), as a Python producer would send them.
    value = parseJson(text, `--${name}`);
  } catch (error) {
    const reason = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
    throw new UsageError(`--${name} is not valid JSON (${reason}); e.g. --${name} '${kind === 'array' ? '[1, "two"]' : '{"key": "value"}'}'`, command);
  }
  const ok = kind === 'array' ? Array.isArray(value) : value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!ok) throw new UsageError(`--${name} must be a JSON ${kind}, got ${JSON.stringify(text)}`, command);
  return value;
}

/** A comma-separated list (`-Q a,b`), without empty items. */
export function listFlag(command: CommandName, flags: ParsedFlags, name: string): string[] | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`--${name} needs at least one name, e.g. --${name} celery,emails`, command);
  return items;
}

/** A pino log level (`-l`). */
export function levelFlag(command: CommandName, flags: ParsedFlags, name: string): LogLevel | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  const level = text.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level) || level === 'silent') {
    throw new UsageError(`--${name} must be one of trace, debug, info, warn, error, fatal; got ${JSON.stringify(text)}`, command);
  }
  return level as LogLevel;
}

/**
 * The subcommand named by the first positional (`taskq inspect ping …`), looked up in
 * `table`; a UsageError lists the choices when it is missing or unknown. Returns its
 * name, its table entry and the positionals after it.
 */
export function subcommand<T>(command: CommandName, table: Readonly<Record<string, T>>, positionals: readonly string[]): { name: string; entry: T; rest: string[] } {
  const [name, ...rest] = positionals;
  const choices = Object.keys(table).join(', ');
  if (name === undefined) throw new UsageError(`which ${command} command? one of ${choices}`, command);
  const entry = Object.hasOwn(table, name) ? table[name] : undefined;
  if (entry === undefined) throw new UsageError(`unknown ${command} command ${JSON.stringify(name)}; use one of ${choices}`, command);
  return { name, entry, rest };
}
