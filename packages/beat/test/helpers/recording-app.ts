/** An app on its own memory:// broker that records every sendTask call the beat makes. */
import type { App, ApplyOptions } from '@taskq/core';
import { createTestApp } from '@taskq/core/testing';

export interface SentCall {
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: ApplyOptions;
  id: string;
}

export function recordingApp(register?: (app: App) => void): App & { sent: SentCall[] } {
  const app = createTestApp({ name: 'beat-test' });
  register?.(app);
  const sent: SentCall[] = [];
  const original = app.sendTask.bind(app);
  app.sendTask = async (task, args = [], kwargs = {}, options = {}) => {
    const result = await original(task, args, kwargs, options);
    sent.push({ task, args, kwargs, options, id: result.id });
    return result;
  };
  return Object.assign(app, { sent });
}

/** `2025-03-30T01:30:00Z` -> epoch ms. */
export const at = (iso: string): number => new Date(iso).getTime();

/** Epoch ms -> ISO string without milliseconds, for readable assertions. */
export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
