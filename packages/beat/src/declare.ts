/**
 * Celery's two ways to declare periodic tasks, kept on the app so the module
 * that creates the app can declare them and any beat that loads the app
 * finds them:
 *
 * 1. a schedule object — {@link defineBeatSchedule} (Celery's `beat_schedule`);
 * 2. a setup hook — {@link onBeatSetup} (Celery's `on_after_configure` with
 *    `sender.add_periodic_task(...)`).
 *
 * Core's `createApp` has no `beatSchedule` option yet, so the declarations
 * live on the app object under a global symbol (shared by every copy of this
 * package in a process).
 */
import type { App, ApplyOptions, Signature } from '@taskq/core';
import { type BeatSchedule, defaultTaskName, type PeriodicTaskOptions, type ScheduleLike } from './entries.js';

/** What `addPeriodicTask` accepts: a core {@link Signature} (`task.s(…)`, `app.signature(name, args)`) or its plain shape. */
export interface SignatureLike {
  readonly task: string;
  readonly args?: readonly unknown[];
  readonly kwargs?: Readonly<Record<string, unknown>>;
  readonly options?: Readonly<ApplyOptions>;
}

export interface AddPeriodicTaskOptions {
  /** Entry name (default: the call, e.g. `report.daily('eu')`). Adding a name again replaces the entry, as in Celery. */
  name?: string;
  /** Call options merged over the signature's (`queue`, `priority`, `expires`, …). */
  options?: PeriodicTaskOptions;
}

/** The `sender` a setup hook receives (Celery's `sender.add_periodic_task`). */
export interface PeriodicTaskSender {
  /** The app whose beat is being set up. */
  readonly app: App | undefined;
  /** Add a periodic task: `addPeriodicTask(15, someTask.s(2, 3), { name: 'Test Task' })`. */
  addPeriodicTask(schedule: ScheduleLike, signature: SignatureLike | Signature, options?: AddPeriodicTaskOptions): void;
}

/** A setup hook: called once per beat start with a sender to add periodic tasks to. */
export type BeatSetupHook = (sender: PeriodicTaskSender) => void | Promise<void>;

interface Declarations {
  schedules: BeatSchedule[];
  hooks: BeatSetupHook[];
}

const KEY = Symbol.for('taskq.beat.declarations');

/** The periodic-task declarations made on `app` (empty when none). */
export function beatDeclarations(app: App): Readonly<Declarations> {
  return (app as unknown as { [KEY]?: Declarations })[KEY] ?? { schedules: [], hooks: [] };
}

function declarations(app: App): Declarations {
  const holder = app as unknown as { [KEY]?: Declarations };
  holder[KEY] ??= { schedules: [], hooks: [] };
  return holder[KEY];
}

/**
 * Declare a beat schedule on the app (Celery's `app.conf.beat_schedule`).
 * Call it in the app module; `taskq beat` and `taskq worker --beat` pick it
 * up. Entries are checked when a beat loads them. Returns `schedule`.
 */
export function defineBeatSchedule<S extends BeatSchedule>(app: App, schedule: S): S {
  declarations(app).schedules.push(schedule);
  return schedule;
}

/**
 * Register a setup hook (Celery's `@app.on_after_configure.connect`), run when
 * a beat loads the app:
 *
 * ```ts
 * onBeatSetup(app, (sender) => {
 *   sender.addPeriodicTask(15, heartbeat.s(), { name: 'Test Task' });
 * });
 * ```
 */
export function onBeatSetup(app: App, hook: BeatSetupHook): void {
  declarations(app).hooks.push(hook);
}

/** Turn an `addPeriodicTask` call into a schedule entry (name and entry). */
export function periodicEntry(
  schedule: ScheduleLike,
  signature: SignatureLike,
  options: AddPeriodicTaskOptions = {},
): { name: string; entry: BeatSchedule[string] } {
  const args = [...(signature.args ?? [])];
  const kwargs = { ...(signature.kwargs ?? {}) };
  const name = options.name ?? defaultTaskName(signature.task, args, kwargs);
  const { taskId: _ignored, ...sigOptions } = signature.options ?? {};
  return { name, entry: { task: signature.task, schedule, args, kwargs, options: { ...sigOptions, ...options.options } } };
}
