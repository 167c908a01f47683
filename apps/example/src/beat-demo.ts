/**
 * The beat part of `pnpm example`: run the app's beat in this process for a
 * few seconds, next to the worker, and print each tick it sends and its
 * result. State in memory: a demo run should not leave a schedule file behind.
 */
import { Beat, MemoryScheduleStore } from '@taskq/beat';
import type { App, Logger } from '@taskq/core';

/** Run the beat for `seconds`; resolves with how many ticks were sent and ran. */
export async function runBeatDemo(app: App, seconds: number, logger: Logger, print: (line: string) => void = console.log): Promise<number> {
  const runs: Promise<void>[] = [];
  const beat = new Beat(app, {
    store: new MemoryScheduleStore(),
    logger,
    onSent: (tick) => {
      print(`⏰ beat sent ${tick.name} (${tick.task}) for ${new Date(tick.slot).toISOString()}`);
      runs.push(
        app
          .AsyncResult(tick.taskId)
          .get({ timeout: 10_000 })
          .then((value) => print(`✓ ${tick.name} → ${JSON.stringify(value)}`)),
      );
    },
  });
  await beat.start();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  await beat.stop();
  await Promise.all(runs);
  return runs.length;
}
