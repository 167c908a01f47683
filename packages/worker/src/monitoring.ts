/**
 * Everything that lets the outside watch and steer a running worker, started
 * once it consumes and stopped at shutdown: the remote-control mailbox
 * (control-mailbox.ts), Celery events (events-dispatcher.ts) and the
 * Prometheus endpoint (metrics.ts).
 */
import { type Broker, ConfigError, LamportClock, type Logger } from '@taskq/core';
import { type ControlledWorker, startControlMailbox } from './control-mailbox.js';
import { WorkerEvents } from './events-dispatcher.js';
import { MetricsServer, WorkerMetrics } from './metrics.js';
import type { ObserverFanout } from './request-tracker.js';

/** Worker options of the monitoring features (part of `WorkerOptions`). */
export interface MonitoringOptions {
  /** Send task events (Celery's `-E`). Worker events (online, heartbeat, offline) are sent anyway. Default `app.conf.workerSendTaskEvents` (false). */
  sendTaskEvents?: boolean;
  /** Answer remote control and inspect requests (Celery's mailbox). Default true. */
  remoteControl?: boolean;
  /** Send worker-online/heartbeat/offline events (Celery's `--without-heartbeat` turns them off). Default true. */
  heartbeat?: boolean;
  /** Serve Prometheus metrics on this port (`--metrics-port`); 0 picks a free port. Default: no server. */
  metricsPort?: number;
  /**
   * Interface the metrics server listens on (`--metrics-host`). Default
   * `127.0.0.1`: the endpoint has no authentication. Use `0.0.0.0` for a
   * Prometheus on another host.
   */
  metricsHost?: string;
}

/** What monitoring needs from the worker. */
export interface MonitoredWorker extends ControlledWorker {
  readonly observers: ObserverFanout;
  readonly log: Logger;
}

/** The running monitoring parts. */
export interface Monitoring {
  /** The metrics server's port, when one runs. */
  readonly metricsPort: number | undefined;
  /** The address the metrics server listens on, when one runs. */
  readonly metricsHost: string | undefined;
  stop(): Promise<void>;
}

/** Start what `options` ask for; the broker's missing fanout only disables control and events (with a warning). */
export async function startMonitoring(w: MonitoredWorker, broker: Broker, options: MonitoringOptions): Promise<Monitoring> {
  const log = w.log;
  const port = options.metricsPort;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new ConfigError(`worker metricsPort must be a port number from 0 to 65535 (0 = any free port), got ${String(port)}`);
  }
  const clock = new LamportClock();
  const stops: Array<() => Promise<void>> = [];
  const fanout = broker.fanout?.();
  let events: WorkerEvents | undefined;
  if (!fanout) {
    log.warn({ transport: broker.transport }, `the ${broker.transport} transport cannot broadcast: remote control and events are off`);
  } else {
    const taskEvents = options.sendTaskEvents ?? w.app.conf.workerSendTaskEvents;
    if (options.heartbeat !== false || taskEvents) {
      events = new WorkerEvents({ fanout, hostname: w.hostname, clock, tracker: w.tracker, taskEvents, log });
      const e = events;
      const remove = w.observers.add(e);
      await e.start();
      stops.push(async () => {
        remove();
        await e.stop();
      });
    }
    if (options.remoteControl !== false) {
      const e = events;
      const setTaskEvents = (on: boolean): void => {
        if (e) e.taskEvents = on;
      };
      const target: ControlledWorker = e ? { ...w, setTaskEvents } : w;
      try {
        const mailbox = await startControlMailbox(target, fanout, clock, log);
        stops.unshift(() => mailbox.stop());
      } catch (error) {
        // The worker still does its job without a mailbox: say so loudly rather than refuse to run.
        log.error({ err: error }, `remote control is off for ${w.hostname}: could not listen on the mailbox (${(error as Error).message})`);
      }
    }
  }
  let server: MetricsServer | undefined;
  if (port !== undefined) {
    const metrics = new WorkerMetrics(w, broker);
    const remove = w.observers.add(metrics);
    server = new MetricsServer(metrics, log);
    try {
      await server.listen(port, options.metricsHost);
    } catch (error) {
      remove();
      await Promise.allSettled(stops.map((stop) => stop()));
      throw new ConfigError(`cannot serve metrics on port ${port}: ${(error as Error).message}; choose a free port (or 0 for any)`, { cause: error });
    }
    const s = server;
    stops.push(async () => {
      remove();
      await s.close();
    });
  }
  return {
    metricsPort: server?.port,
    metricsHost: server?.host,
    async stop() {
      for (const stop of stops) {
        try {
          await stop();
        } catch (error) {
          log.warn({ err: error }, 'stopping a monitoring part failed');
        }
      }
    },
  };
}
