/**
 * `--autoscale max,min` (Celery's Autoscaler): every `intervalMs`, grow the
 * pool towards `max` while tasks wait for a slot, and once it has not been
 * busy for `keepaliveMs`, shrink it back towards `min` (never below what runs).
 */
import type { Logger } from '@taskq/core';
import type { Pool } from './pools/pool.js';

export interface AutoscalerOptions {
  max: number;
  min: number;
  /** How often to look at the pool. Default 1 s. */
  intervalMs?: number;
  /** How long the pool must be under-used before it shrinks (Celery's `AUTOSCALE_KEEPALIVE`, 30 s). */
  keepaliveMs?: number;
}

type Resizable = Pool & { resize(size: number): void };

export class Autoscaler {
  private timer: NodeJS.Timeout | undefined;
  private lastBusyAt = Date.now();
  private readonly intervalMs: number;
  private readonly keepaliveMs: number;

  constructor(
    private readonly pool: Resizable,
    private readonly options: AutoscalerOptions,
    private readonly log: Logger,
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.keepaliveMs = options.keepaliveMs ?? 30_000;
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at the pool (exposed for tests). */
  tick(now = Date.now()): void {
    const { max, min } = this.options;
    const { size, active, waiting } = this.pool;
    if (waiting > 0 || active >= size) this.lastBusyAt = now;
    if (waiting > 0 && size < max) {
      const next = Math.min(max, size + waiting);
      this.log.info({ from: size, to: next, waiting }, `autoscale: growing the pool from ${size} to ${next}`);
      this.pool.resize(next);
      return;
    }
    const floor = Math.max(min, active);
    if (size > floor && now - this.lastBusyAt >= this.keepaliveMs) {
      this.log.info({ from: size, to: floor }, `autoscale: shrinking the pool from ${size} to ${floor}`);
      this.pool.resize(floor);
    }
  }
}
