/**
 * The dashboard: listens to Celery events, polls workers and queue depths,
 * and serves the page, a JSON API, server-sent events for live updates, and
 * the remote-control actions (plain node:http; no framework).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type App, ConfigError, EventReceiver, type Logger, stringifyJson, TaskqError } from '@taskq/core';
import { type AllowedHost, createHostCheck, type HostCheck, parseAllowedHosts } from './host-check.js';
import { FleetState, type FleetStateOptions } from './state.js';
import { CLIENT_JS } from './ui/client.js';
import { INDEX_HTML } from './ui/page.js';

/** How to run a {@link Dashboard}. */
export interface DashboardOptions {
  /** The app whose broker and result backend to watch. */
  app: App;
  /** Interface to bind (default 127.0.0.1: the dashboard can stop workers, so it is not exposed unless asked). */
  address?: string;
  /** Port (default 5555, Flower's; 0 picks a free one). */
  port?: number;
  /**
   * Host names (`name` for any port, or `name:port`) the dashboard may be reached by besides
   * its bound address and localhost/127.0.0.1/[::1] on its port, e.g. a reverse proxy's name.
   * Any other `Host` is refused with 403, so a DNS-rebinding page cannot drive the dashboard.
   * Bound to every interface (0.0.0.0, ::) with no list, every Host is answered (and a warning logged).
   */
  allowedHosts?: readonly string[];
  /** `user:pass`: every request must carry these Basic credentials. */
  basicAuth?: string;
  /** Refuse every action (revoke, shutdown, rate limit, pool size). */
  readOnly?: boolean;
  /** Queues to show besides those workers report. */
  queues?: readonly string[];
  /** How often to ask workers (stats, active, active_queues) and measure queues, ms (default 5000). */
  pollIntervalMs?: number;
  /** Seconds to wait for inspect replies (default 1). */
  inspectTimeout?: number;
  /** Tuning of the in-memory state (tests pass a clock). */
  state?: FleetStateOptions;
  logger?: Logger;
}

/** A request the dashboard refuses, with the HTTP status to answer. */
export class DashboardRequestError extends TaskqError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('TASKQ_ERR_DASHBOARD_REQUEST', message);
  }
}

/** The header every action must carry: a cross-site form cannot set it, so actions cannot be forged from another page. */
export const ACTION_HEADER = 'x-taskq-dashboard';

const MAX_BODY = 64 * 1024;

/** The running dashboard. Create with {@link startDashboard}. */
export class Dashboard {
  readonly state: FleetState;
  private readonly app: App;
  private readonly log: Logger;
  private readonly server: Server;
  private receiver: EventReceiver | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private pushTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private readonly streams = new Set<ServerResponse>();
  /** SHA-256 of the `user:pass` Basic credentials, when required. */
  private readonly credentials: Buffer | undefined;
  private readonly allowedHosts: AllowedHost[];
  /** Set once listening (it needs the bound address and port); until then nothing is answered. */
  private hostCheck: HostCheck | undefined;
  private pushedVersion = -1;
  private closed = false;

  constructor(private readonly options: DashboardOptions) {
    this.app = options.app;
    this.log = options.logger ?? options.app.log.child({ component: 'dashboard' });
    this.state = new FleetState(options.state);
    for (const q of options.queues ?? []) this.state.addQueue(q);
    this.allowedHosts = parseAllowedHosts(options.allowedHosts ?? []);
    if (options.basicAuth !== undefined) {
      if (!/^[^:]+:.+$/.test(options.basicAuth)) throw new ConfigError('basicAuth must be "user:password" (both non-empty)');
      this.credentials = sha256(Buffer.from(options.basicAuth));
    }
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => this.fail(res, error));
    });
  }

  /** The address the server listens on, e.g. `http://127.0.0.1:5555`. */
  get url(): string {
    const a = this.server.address() as AddressInfo | null;
    if (!a) throw new ConfigError('the dashboard is not listening; call start() first');
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  /** Subscribe to events, start polling, and listen. */
  async start(): Promise<void> {
    const broker = await this.app.getBroker();
    if (!broker.fanout) throw new ConfigError(`the ${broker.transport} transport cannot broadcast events, so a dashboard has nothing to show; use redis://, amqp:// or memory://`);
    this.receiver = new EventReceiver({ fanout: broker.fanout(), onEvent: (e) => this.state.apply(e) });
    await this.receiver.start();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 5555, this.options.address ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const bound = this.server.address() as AddressInfo;
    this.hostCheck = createHostCheck({ boundAddress: bound.address, configuredAddress: this.options.address, port: bound.port, allowedHosts: this.allowedHosts });
    if (this.hostCheck.anyHost) {
      this.log.warn(
        { address: bound.address },
        'the dashboard listens on every interface and answers any Host header, so a DNS-rebinding web page could drive it; set allowedHosts to the names it is reached by',
      );
    }
    // One poll at a time: a slow broker skips ticks rather than piling up inspect requests.
    const tick = (): void => {
      this.polling ??= this.poll().finally(() => {
        this.polling = undefined;
      });
    };
    tick();
    this.pollTimer = setInterval(tick, this.options.pollIntervalMs ?? 5000);
    // Push at most once a second, and only when something changed.
    this.pushTimer = setInterval(() => this.push(), 1000);
    this.log.info({ url: this.url, readOnly: this.options.readOnly === true }, `taskq dashboard on ${this.url}`);
  }

  /** Ask workers for stats/active/active_queues and measure every known queue. */
  async poll(): Promise<void> {
    try {
      const inspect = this.app.control.inspect({ timeout: this.options.inspectTimeout ?? 1 });
      const [stats, active, queues] = await Promise.all([inspect.stats(), inspect.active(), inspect.activeQueues()]);
      for (const [node, s] of Object.entries(stats ?? {})) if (s && typeof s === 'object') this.state.applyStats(node, s);
      for (const [node, a] of Object.entries(active ?? {})) if (Array.isArray(a)) this.state.applyActive(node, a);
      for (const [node, q] of Object.entries(queues ?? {})) if (Array.isArray(q)) this.state.applyActiveQueues(node, q);
      if (this.closed) return;
      const broker = await this.app.getBroker();
      for (const q of this.state.queueNames()) this.state.recordDepth(q, await broker.queueSize(q));
    } catch (error) {
      // A broker hiccup must not stop the dashboard; the next poll tries again.
      if (!this.closed) this.log.warn({ err: error }, 'polling workers and queues failed');
    }
  }

  private push(): void {
    if (this.state.version === this.pushedVersion || this.streams.size === 0) return;
    this.pushedVersion = this.state.version;
    const data = this.snapshotJson();
    for (const res of this.streams) res.write(`event: snapshot\ndata: ${data}\n\n`);
  }

  private snapshotJson(): string {
    return stringifyJson({ ...this.state.snapshot(), readOnly: this.options.readOnly === true }, 'snapshot');
  }

  /** Stop listening, polling and streaming. The app is left open (its owner closes it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pollTimer);
    clearInterval(this.pushTimer);
    for (const res of this.streams) res.end();
    this.streams.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await this.polling;
    await this.receiver?.close();
  }

  private authorized(req: IncomingMessage): boolean {
    if (!this.credentials) return true;
    const header = req.headers.authorization ?? '';
    const m = /^Basic\s+(\S+)$/i.exec(header);
    if (!m) return false;
    // Digests have one length whatever was sent, so the comparison reveals neither the content nor the length of the secret.
    const given = sha256(Buffer.from(Buffer.from(m[1]!, 'base64').toString('utf8')));
    return timingSafeEqual(given, this.credentials);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-content-type-options', 'nosniff');
    // Before authentication: a browser fooled by DNS rebinding may well hold the credentials.
    if (!this.hostCheck?.allows(req.headers.host)) {
      throw new DashboardRequestError(403, `the dashboard does not answer for Host ${JSON.stringify(req.headers.host ?? '')}; browse it by its address or localhost, or add the name to allowedHosts`);
    }
    if (!this.authorized(req)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="taskq dashboard", charset="UTF-8"', 'content-type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (req.method === 'GET' || req.method === 'HEAD') return this.handleGet(path, url.searchParams, req, res);
    if (req.method === 'POST') return this.handlePost(path, req, res);
    throw new DashboardRequestError(405, `${req.method} is not allowed; use GET or POST`);
  }

  private async handleGet(path: string, params: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (path === '/' || path.startsWith('/task/')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:" });
      res.end(INDEX_HTML);
      return;
    }
    if (path === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(CLIENT_JS);
      return;
    }
    if (path === '/favicon.ico') {
      // No icon; answering keeps the browser console free of a 404.
      res.writeHead(204);
      res.end();
      return;
    }
    if (path === '/api/snapshot') return json(res, 200, this.snapshotJson());
    if (path === '/api/tasks') {
      const limit = Number(params.get('limit') ?? 500);
      const tasks = this.state.listTasks({ state: params.get('state') ?? undefined, name: params.get('name') ?? undefined, limit: Number.isFinite(limit) ? limit : 500 });
      return json(res, 200, stringifyJson(tasks, 'tasks'));
    }
    const taskMatch = /^\/api\/tasks\/([^/]+)$/.exec(path);
    if (taskMatch) {
      const id = decodeSegment(taskMatch[1]!);
      const task = this.state.task(id) ?? null;
      let meta: unknown = null;
      try {
        meta = (await this.app.AsyncResult(id).meta()) ?? null;
      } catch (error) {
        this.log.debug({ err: error, id }, 'reading the stored result failed');
      }
      if (!task && !meta) throw new DashboardRequestError(404, `no task ${id} in the dashboard's memory or the result backend`);
      return json(res, 200, stringifyJson({ task, meta }, 'task'));
    }
    if (path === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write(`retry: 2000\nevent: snapshot\ndata: ${this.snapshotJson()}\n\n`);
      this.streams.add(res);
      req.on('close', () => this.streams.delete(res));
      return;
    }
    throw new DashboardRequestError(404, `nothing at ${path}`);
  }

  private async handlePost(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.options.readOnly) throw new DashboardRequestError(403, 'the dashboard is read-only (started with --read-only)');
    if (req.headers[ACTION_HEADER] !== '1') throw new DashboardRequestError(403, `actions need the ${ACTION_HEADER}: 1 header (sent by the dashboard page)`);
    const body = await readBody(req);
    const replies = await this.runAction(path, body);
    return json(res, 200, stringifyJson({ ok: true, replies }, 'replies'));
  }

  /** Run the action a POST path names; resolves with the workers' replies. */
  private async runAction(path: string, body: Record<string, unknown>): Promise<unknown[]> {
    const control = this.app.control;
    const revoke = /^\/api\/tasks\/([^/]+)\/revoke$/.exec(path);
    if (revoke) {
      const id = decodeSegment(revoke[1]!);
      const terminate = body.terminate === true;
      this.log.info({ id, terminate }, 'revoking a task from the dashboard');
      const replies = await control.revoke(id, { terminate, signal: typeof body.signal === 'string' ? body.signal : 'SIGTERM', reply: true, timeout: 1 });
      if (replies.length > 0) this.state.markRevokeRequested(id);
      return replies;
    }
    const shutdown = /^\/api\/workers\/([^/]+)\/shutdown$/.exec(path);
    if (shutdown) {
      const node = decodeSegment(shutdown[1]!);
      this.log.info({ node }, 'asking a worker to shut down from the dashboard');
      return control.shutdown({ destination: [node] });
    }
    const pool = /^\/api\/workers\/([^/]+)\/pool$/.exec(path);
    if (pool) {
      const node = decodeSegment(pool[1]!);
      const n = Number(body.n ?? 1);
      if (!Number.isInteger(n) || n < 1) throw new DashboardRequestError(400, 'n must be a positive integer');
      if (body.op !== 'grow' && body.op !== 'shrink') throw new DashboardRequestError(400, 'op must be "grow" or "shrink"');
      this.log.info({ node, op: body.op, n }, 'resizing a pool from the dashboard');
      const options = { destination: [node], reply: true, timeout: 1 };
      return body.op === 'grow' ? control.poolGrow(n, options) : control.poolShrink(n, options);
    }
    if (path === '/api/rate-limit') {
      if (typeof body.task !== 'string' || body.task === '') throw new DashboardRequestError(400, 'task must be a task name');
      const rate = body.rate === null || body.rate === '' || body.rate === undefined ? null : String(body.rate);
      if (rate !== null && !/^\d+(\.\d+)?(\/[smh])?$/.test(rate)) throw new DashboardRequestError(400, `rate ${JSON.stringify(rate)} is not a rate limit; use e.g. 10/m, 5/s, 100/h, or empty for none`);
      const destination = typeof body.worker === 'string' && body.worker !== '' ? [body.worker] : undefined;
      this.log.info({ task: body.task, rate, destination }, 'changing a rate limit from the dashboard');
      return control.rateLimit(body.task, rate, { reply: true, timeout: 1, ...(destination ? { destination } : {}) });
    }
    throw new DashboardRequestError(404, `no action at ${path}`);
  }

  private fail(res: ServerResponse, error: unknown): void {
    const status = error instanceof DashboardRequestError ? error.status : 500;
    if (status === 500) this.log.error({ err: error }, 'dashboard request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    json(res, status, JSON.stringify({ ok: false, error: error instanceof Error ? error.message : String(error) }));
  }
}

/** Decode one percent-encoded path segment; a malformed escape is the client's mistake (400), not a server error. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new DashboardRequestError(400, `the path segment ${JSON.stringify(segment)} has a malformed percent-escape; encode it with encodeURIComponent`);
  }
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function json(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new DashboardRequestError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DashboardRequestError(400, 'the body must be JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DashboardRequestError(400, 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** Create and start a dashboard; `await dashboard.close()` stops it. */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const dashboard = new Dashboard(options);
  try {
    await dashboard.start();
  } catch (error) {
    await dashboard.close();
    throw error;
  }
  return dashboard;
}
