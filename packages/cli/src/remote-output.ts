/**
 * Printing replies of remote-control commands the way Celery's CLI does
 * (`celery/bin/base.py`: `say_remote_command_reply`, `pretty`):
 *
 * ```text
 * ->  worker1@host: OK
 *         pong
 *
 * 1 node online.
 * ```
 */
import { type ControlReply, pythonRepr, stringifyJson } from '@taskq/core';

/** Exit code when no worker answered in time (Celery's EX_UNAVAILABLE). */
export const EXIT_UNAVAILABLE = 69;

function indent(text: string, n: number): string {
  const pad = ' '.repeat(n);
  return text
    .split('\n')
    .map((line) => pad + line)
    .join('\n');
}

/** Python's `json.dumps(value, sort_keys=True, indent=4)`. */
function sortedJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as Record<string, unknown>)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  // Display only: an integer past 2^53 (a bigint from the parser) is shown as its digits.
  return JSON.stringify(sort(value), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 4);
}

/** Celery's `pretty(reply)`: a status ('OK' or 'ERROR') and the body text. */
export function prettyReply(reply: unknown): [status: string, body: string] {
  if (Array.isArray(reply)) {
    if (reply.length === 0) return ['OK', '- empty -'];
    // Celery prints each item with Python's str(): strings as they are, dicts and lists as their repr.
    return ['OK', reply.map((item) => `* ${typeof item === 'string' ? item : pythonRepr(item)}`).join('\n')];
  }
  if (reply !== null && typeof reply === 'object') {
    const r = reply as Record<string, unknown>;
    if ('ok' in r) return ['OK', indent(prettyReply(r.ok)[1], 4)];
    if ('error' in r) return ['ERROR', indent(prettyReply(r.error)[1], 4)];
    return ['OK', sortedJson(r)];
  }
  if (typeof reply === 'string') return ['OK', reply];
  return ['OK', stringifyJson(reply ?? null, 'reply')];
}

/** The lines Celery prints for one node's reply. */
export function formatReply(reply: ControlReply): string {
  const node = Object.keys(reply)[0] ?? '?';
  const [status, body] = prettyReply(reply[node]);
  return body ? `->  ${node}: ${status}\n${indent(body, 4)}\n` : `->  ${node}: ${status}\n`;
}

/** The closing line: `\n2 nodes online.` */
export function formatNodeCount(n: number): string {
  return `\n${n} ${n === 1 ? 'node' : 'nodes'} online.\n`;
}

/** All replies as one JSON object keyed by node name (Celery's `--json`). */
export function formatJson(replies: readonly ControlReply[]): string {
  return `${stringifyJson(Object.assign({}, ...replies), 'replies')}\n`;
}
