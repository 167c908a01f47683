/**
 * Usage texts and the usage error. Every command's flags are documented here
 * once, so `--help` and the message printed after a bad flag never drift apart.
 */
import { TaskqError } from '@taskq/core';

/** Names of the commands `taskq` knows, in the order `--help` lists them. */
export const COMMANDS = ['worker', 'beat', 'call', 'result', 'inspect', 'control', 'events', 'purge', 'dashboard'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Exit code of a usage or configuration error (as with most Unix tools and Celery's click CLI). */
export const EXIT_USAGE = 2;

/**
 * A bad command line: unknown flag, bad value, missing argument. Printed with
 * the command's usage; exit code 2.
 */
export class UsageError extends TaskqError {
  /** The command whose usage to print, when known. */
  readonly command: CommandName | undefined;
  constructor(message: string, command?: CommandName) {
    super('TASKQ_ERR_USAGE', message);
    this.command = command;
  }
}

const TOP = `Usage: taskq <command> [options]

Commands:
  worker   Start a worker that consumes and runs tasks   (celery worker)
  beat     Send periodic tasks on their schedules        (celery beat)
  call     Send a task by name, optionally wait for it   (celery call)
  result   Print a stored task result                    (celery result)
  inspect  Ask workers: ping, active, stats, registered… (celery inspect)
  control  Tell workers: revoke, rate_limit, shutdown…   (celery control)
  events   Print task and worker events live             (celery events)
  purge    Delete every waiting message of queues        (celery purge)
  dashboard Web dashboard (needs @taskq/dashboard)       (flower)

Options:
  -h, --help      Show help (also: taskq <command> --help)
  -V, --version   Print the taskq version

The app module comes from --app, or from "taskq": { "app": "./src/app.ts" }
in the package.json of the current directory. Broker and result backend come
from the app, or from TASKQ_BROKER_URL / TASKQ_RESULT_BACKEND (CELERY_* too).`;

const WORKER = `Usage: taskq worker [--app <module>] [options]

Start a worker for the app's tasks. SIGTERM/SIGINT stop it warmly (in-flight
tasks finish); a second signal stops it at once.

Options:
  -A, --app <module>            App module: a path relative to the current directory
                                (.ts works without a build) or a package specifier
  -Q, --queues <q1,q2>          Queues to consume (default: the app's default queue)
  -c, --concurrency <N>         Tasks run at the same time (default: the worker's)
  -l, --loglevel <level>        trace | debug | info | warn | error | fatal (default: info)
  -n, --hostname <name>         Node name, e.g. worker1@%h
  -P, --pool <pool>             Pool implementation: async (default; I/O-bound tasks in
                                one event loop), threads (worker_threads, CPU-bound JS),
                                process (child processes, isolation), solo (one task at a
                                time). Celery's prefork = process, eventlet/gevent = async
      --max-tasks-per-child <N> Maximum number of tasks a pool thread/child runs before
                                it is replaced with a new one (threads, process)
      --max-memory-per-child <KiB>
                                Maximum memory (KiB; resident for a child, heap for a
                                thread) a pool thread/child may use before it is replaced
                                once its current task is done (threads, process)
      --autoscale <max,min>     Enable autoscaling: grow the pool up to max while tasks
                                wait, shrink it back to min when idle (e.g. 10,3)
      --prefetch-multiplier <N> Messages reserved per unit of concurrency
  -O, --optimization <fair>     fair: reserve only as many messages as the pool can start
                                (prefetch = concurrency); tasks go to idle children only
  -S, --statedb <path>          File that keeps revoked task ids across restarts
      --time-limit <S>          Hard time limit per task, in seconds: the task is killed
                                (threads, process; async only marks it failed)
      --soft-time-limit <S>     Soft time limit per task, in seconds (aborts ctx.signal)
  -B, --beat                    Also run the beat scheduler in this process (development
                                only; in production run \`taskq beat\` as its own process)
  -s, --schedule-store <store>  With --beat: file[:PATH] (default) or redis[:PREFIX]
                                (the beats of all such workers elect one leader)
  -E, --task-events             Send task-related events that can be captured by monitors
                                like \`taskq events\`, \`celery events\` and Flower
      --without-heartbeat       Don't send worker-heartbeat events
      --metrics-port <N>        Serve Prometheus metrics on this port (/metrics)
      --metrics-host <ip>       Address the metrics server binds (default 127.0.0.1; use
                                0.0.0.0 for a Prometheus on another host)
  -h, --help                    Show this help`;

const BEAT = `Usage: taskq beat [--app <module>] [options]

Send the app's periodic tasks when they are due (declared with
defineBeatSchedule / onBeatSetup from @taskq/beat, or a \`beatSchedule\` export
of the app module). SIGTERM/SIGINT stop it.

Options:
  -A, --app <module>            App module (default: package.json "taskq.app")
  -l, --loglevel <level>        trace | debug | info | warn | error | fatal (default: info)
  -s, --schedule-store <store>  Where last runs are kept:
                                  file[:PATH]     a JSON file (default ./taskq-beat-schedule.json);
                                                  one beat per file
                                  redis[:PREFIX]  the app's Redis broker (default prefix
                                                  taskq-beat:<app name>); several beats may
                                                  run, one leader sends
      --timezone <TZ>           IANA time zone for crontabs (default: TASKQ_TIMEZONE,
                                CELERY_TIMEZONE, else UTC)
      --max-interval <S>        Longest sleep between schedule checks (default 300)
      --lock-ttl <S>            Redis store: seconds the leader lock lives unrenewed; a
                                standby takes over within it (default 30)
  -h, --help                    Show this help`;

const CALL = `Usage: taskq call <task-name> [options]

Send a task by name and print its id. With --wait, print its result as JSON
(exit 1 if the task failed).

Options:
      --args <JSON>        Positional arguments, a JSON array (default: [])
      --kwargs <JSON>      Keyword arguments, a JSON object (default: {})
  -Q, --queue <name>       Queue to send to (default: the task's or the app's)
      --countdown <S>      Run no earlier than S seconds from now
      --eta <ISO-8601>     Run no earlier than this time (not with --countdown)
      --expires <S>        Discard the task if not started within S seconds
      --priority <0-9>     Message priority
      --wait <S>           Wait up to S seconds for the result and print it
  -A, --app <module>       App module (default: package.json "taskq.app", else an app from env)
  -h, --help               Show this help`;

const RESULT = `Usage: taskq result <task-id> [options]

Print a task's stored state and result (or error). Exit 1 if it failed.

Options:
      --wait <S>           Wait up to S seconds for the task to be ready
      --json               Print the stored result meta as JSON
  -A, --app <module>       App module (default: package.json "taskq.app", else an app from env)
  -h, --help               Show this help`;

const REMOTE_OPTIONS = `Options:
  -d, --destination <nodes>  Only these workers (comma-separated node names, e.g. w1@host)
  -t, --timeout <S>          Seconds to wait for replies (default 1)
  -j, --json                 Print all replies as one JSON object keyed by node name
  -A, --app <module>         App module (default: package.json "taskq.app", else an app from env)
  -h, --help                 Show this help

Works with taskq and Python Celery workers on the same broker (redis:// or amqp://).
Exit 69 when no worker answered within the timeout.`;

const INSPECT = `Usage: taskq inspect <command> [args…] [options]

Ask workers and print their replies, as celery inspect does.

Commands:
  ping                 Are you there? (pong)
  active               Tasks running now
  scheduled            Tasks held until their eta (countdown)
  reserved             Tasks received and waiting for a slot
  registered [items…]  Registered task names (items: rate_limit, time_limit…)
  stats                Counters: totals per task, pool, prefetch, uptime, rusage
  revoked              Revoked task ids
  active_queues        Queues consumed
  conf                 Configuration
  report               Software and settings summary
  query_task <id…>     State of tasks held by the worker

${REMOTE_OPTIONS}`;

const CONTROL = `Usage: taskq control <command> [args…] [options]

Tell workers to act, as celery control does.

Commands:
  revoke <id…>                       Refuse these tasks when they arrive
  terminate <signal> <id…>           Revoke and stop them if running
  rate_limit <task> <rate>           e.g. 10/m; 0 lifts the limit
  time_limit <task> <soft> [hard]    Seconds
  shutdown                           Warm shutdown (no reply)
  pool_grow [n] / pool_shrink [n]    Resize the pool
  add_consumer <queue>               Consume one more queue
  cancel_consumer <queue>            Stop consuming a queue
  enable_events / disable_events     Turn task events on or off

${REMOTE_OPTIONS}`;

const EVENTS = `Usage: taskq events [options]

Print Celery events (task-*, worker-*) live, one line each, until Ctrl-C.
Workers send task events with -E (sendTaskEvents); heartbeats always.

Options:
  -j, --json               One JSON event per line
      --task-only          Only task events
      --worker-only        Only worker events (online, heartbeat, offline)
      --duration <S>       Stop after S seconds
  -A, --app <module>       App module (default: package.json "taskq.app", else an app from env)
  -h, --help               Show this help`;

const PURGE = `Usage: taskq purge [options]

Delete every waiting message of queues (not those workers already hold).
Asks for confirmation (y/N on stdin) unless -f.

Options:
  -Q, --queues <names>     Comma-separated queues (default: the app's default queue)
  -f, --force              Do not ask
  -A, --app <module>       App module (default: package.json "taskq.app", else an app from env)
  -h, --help               Show this help`;

const DASHBOARD = `Usage: taskq dashboard [options]

Serve a web dashboard of the fleet (taskq and Python Celery workers on the same
broker), as Flower does: workers, tasks, queues and a throughput chart, live
from Celery events; revoke/terminate tasks, shut down workers, change rate
limits and pool sizes. Needs the @taskq/dashboard package. Workers send task
events with -E (sendTaskEvents). Ctrl-C stops it.

Options:
  -p, --port <N>             Port (default 5555; 0 picks a free one)
      --address <ip>         Interface to bind (default 127.0.0.1, this machine only)
      --basic-auth <u:p>     Require these Basic credentials (or TASKQ_DASHBOARD_BASIC_AUTH)
      --read-only            Show only: refuse every action
      --allowed-hosts <h,…>  Host names (name or name:port) accepted besides the bound
                             address and localhost; others get 403 (DNS rebinding guard)
  -Q, --queues <q1,q2>       Queues to show besides those workers consume
      --poll-interval <S>    Seconds between inspect/queue-depth polls (default 5)
  -A, --app <module>         App module (default: package.json "taskq.app", else an app from env)
  -h, --help                 Show this help`;

const TEXTS: Record<CommandName, string> = { worker: WORKER, beat: BEAT, call: CALL, result: RESULT, inspect: INSPECT, control: CONTROL, events: EVENTS, purge: PURGE, dashboard: DASHBOARD };

/** The usage text of a command, or of `taskq` itself. */
export function usage(command?: CommandName): string {
  return command ? TEXTS[command] : TOP;
}

/** True if `name` is one of {@link COMMANDS}. */
export function isCommand(name: string): name is CommandName {
  return (COMMANDS as readonly string[]).includes(name);
}
