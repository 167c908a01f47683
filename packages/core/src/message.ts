/**
 * The one in-memory shape of a Celery protocol v2 task message. Field names
 * inside headers and properties are Celery's own (snake_case), because they
 * are the wire format; see docs/protocol.md.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { argsRepr, kwargsRepr } from './python-repr.js';

/** A serialised signature, as Celery puts it in `embed` (callbacks, chain, chord). */
export interface SignatureDict {
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: Record<string, unknown>;
  subtask_type: string | null;
  immutable: boolean;
  [extra: string]: unknown;
}

export interface TaskEmbed {
  callbacks: SignatureDict[] | null;
  errbacks: SignatureDict[] | null;
  chain: SignatureDict[] | null;
  chord: SignatureDict | null;
  [extra: string]: unknown;
}

export interface TaskHeaders {
  lang: string;
  task: string;
  id: string;
  shadow: string | null;
  eta: string | null;
  expires: string | null;
  group: string | null;
  group_index: number | null;
  retries: number;
  /** `[hard, soft]` time limits in seconds — hard first, as Celery sends them. */
  timelimit: [number | null, number | null];
  root_id: string;
  parent_id: string | null;
  argsrepr: string;
  kwargsrepr: string;
  origin: string;
  ignore_result: boolean;
  [extra: string]: unknown;
}

export interface TaskProperties {
  correlation_id: string;
  reply_to?: string;
  delivery_mode: number;
  priority?: number;
  /** Milliseconds as a string, Celery's per-message TTL for `expires`. */
  expiration?: string;
  [extra: string]: unknown;
}

export type TaskBody = [args: unknown[], kwargs: Record<string, unknown>, embed: TaskEmbed];

export interface TaskMessage {
  headers: TaskHeaders;
  properties: TaskProperties;
  body: TaskBody;
  contentType: 'application/json';
  contentEncoding: 'utf-8';
}

export const EMPTY_EMBED: Readonly<TaskEmbed> = Object.freeze({
  callbacks: null,
  errbacks: null,
  chain: null,
  chord: null,
});

/** The sender's `origin` header: `gen<pid>@<host>`, as Celery writes it. */
export const ORIGIN = `gen${process.pid}@${hostname()}`;

export interface BuildTaskMessageInit {
  task: string;
  id?: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  embed?: Partial<TaskEmbed>;
  eta?: string | null;
  expires?: string | null;
  expirationMs?: number;
  priority?: number;
  retries?: number;
  timelimit?: [number | null, number | null];
  rootId?: string;
  parentId?: string | null;
  group?: string | null;
  groupIndex?: number | null;
  shadow?: string | null;
  ignoreResult?: boolean;
  replyTo?: string;
  origin?: string;
  headers?: Record<string, unknown>;
}

/** Build a protocol v2 message with every header Celery 5.2 sends. */
export function buildTaskMessage(init: BuildTaskMessageInit): TaskMessage {
  const id = init.id ?? randomUUID();
  const args = init.args ?? [];
  const kwargs = init.kwargs ?? {};
  const headers: TaskHeaders = {
    ...init.headers,
    lang: 'py',
    task: init.task,
    id,
    shadow: init.shadow ?? null,
    eta: init.eta ?? null,
    expires: init.expires ?? null,
    group: init.group ?? null,
    group_index: init.groupIndex ?? null,
    retries: init.retries ?? 0,
    timelimit: init.timelimit ?? [null, null],
    root_id: init.rootId ?? id,
    parent_id: init.parentId ?? null,
    argsrepr: argsRepr(args),
    kwargsrepr: kwargsRepr(kwargs),
    origin: init.origin ?? ORIGIN,
    ignore_result: init.ignoreResult ?? false,
  };
  const properties: TaskProperties = { correlation_id: id, delivery_mode: 2 };
  if (init.replyTo !== undefined) properties.reply_to = init.replyTo;
  if (init.priority !== undefined) properties.priority = init.priority;
  if (init.expirationMs !== undefined) properties.expiration = String(Math.max(0, Math.round(init.expirationMs)));
  return {
    headers,
    properties,
    body: [args, kwargs, { ...EMPTY_EMBED, ...init.embed }],
    contentType: 'application/json',
    contentEncoding: 'utf-8',
  };
}
