/**
 * Celery's built-in canvas tasks, known to every app so that ones sent by
 * Python run on taskq too: `celery.map(task, it)`, `celery.starmap(task, it)`
 * and `celery.chunks(task, it, n)`. `task` is a signature dict; map and
 * starmap call the task's function in this worker for each item (Celery calls
 * `signature(task).type(item)`), chunks sends a group of starmaps.
 */
import type { App } from './app.js';
import { groupMetaFor } from './canvas-backend.js';
import { TaskNotRegisteredError } from './errors.js';
import { Signature } from './signature.js';
import { createTask, makeContext, type Task, type TaskContext } from './task.js';
import { resolveTaskOptions } from './task-options.js';

interface BuiltinArgs {
  task: unknown;
  it: unknown[];
  n: number;
}

/** Positional (`task, it[, n]`) or keyword (`{task, it, n}`, as Celery's xmap/xstarmap/chunks send them) arguments. */
function parseArgs(name: string, raw: unknown[]): BuiltinArgs {
  const args = [...raw];
  const last = args.at(-1);
  const kw = last !== null && typeof last === 'object' && !Array.isArray(last) && 'it' in last ? (args.pop() as Record<string, unknown>) : {};
  const task = args[0] ?? kw.task;
  const it = args[1] ?? kw.it;
  const n = args[2] ?? kw.n;
  if (!Array.isArray(it)) throw new TypeError(`${name}: "it" must be a list of items, got ${typeof it}`);
  return { task, it, n: Number(n) };
}

/** Run another task's function inline, with a context of its own name (Celery calls the task object directly). */
async function runInline(ctx: TaskContext, sigDict: unknown, args: unknown[]): Promise<unknown> {
  const sig = Signature.fromDict(sigDict);
  const task = ctx.app.tasks.get(sig.task);
  if (!task) throw new TaskNotRegisteredError(sig.task);
  const inner = makeContext(ctx.app, { ...ctx.request, task: sig.task, args }, task.options, () => ctx.signal);
  return task.run(inner, args);
}

async function xmap(ctx: TaskContext, ...raw: unknown[]): Promise<unknown[]> {
  const { task, it } = parseArgs('celery.map', raw);
  const out: unknown[] = [];
  for (const item of it) out.push(await runInline(ctx, task, [item]));
  return out;
}

async function xstarmap(ctx: TaskContext, ...raw: unknown[]): Promise<unknown[]> {
  const { task, it } = parseArgs('celery.starmap', raw);
  const out: unknown[] = [];
  for (const item of it) out.push(await runInline(ctx, task, Array.isArray(item) ? item : [item]));
  return out;
}

/** Sends the group of starmaps; returns the group as Celery's result tuple (`[[gid, null], [[[id, null], null], …]]`). */
async function xchunks(ctx: TaskContext, ...raw: unknown[]): Promise<unknown> {
  const { task, it, n } = parseArgs('celery.chunks', raw);
  const { chunks } = await import('./canvas.js');
  const sig = Signature.fromDict(task, ctx.app);
  const result = await chunks(sig, it as unknown[][], n).applyAsync();
  return groupMetaFor(result.id, result.results.map((r) => r.id)).result;
}

const FUNCTIONS: Record<string, (ctx: TaskContext, ...args: unknown[]) => Promise<unknown>> = {
  'celery.map': xmap,
  'celery.starmap': xstarmap,
  'celery.chunks': xchunks,
};

const tasks = new Map<string, Task>();

/**
 * The built-in task of that name, or undefined. They are app-independent:
 * they run with the executing app in their context (bound tasks).
 */
export function builtinTask(name: string): Task | undefined {
  const fn = FUNCTIONS[name];
  if (!fn) return undefined;
  let task = tasks.get(name);
  if (!task) {
    // No app of their own: a worker or eager run passes its app through the context.
    task = createTask(undefined as unknown as App, name, fn as never, resolveTaskOptions(name, { bind: true })) as Task;
    tasks.set(name, task);
  }
  return task;
}
