/** Entry of a measured child process: `prepare`, say ready, wait for go, report the result. */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { meterGc } from './gc-meter.js';
import type { ChildMessage, Job, ParentMessage } from './protocol.js';

const send = (m: ChildMessage): void => {
  process.send?.(m);
};

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as Job;
  const mod = job.system === 'taskq' ? await import('./roles/taskq.js') : job.system === 'bullmq' ? await import('./roles/bullmq.js') : await import('./roles/amqplib.js');
  const run = await mod.prepare(job);
  const go = new Promise<void>((resolve) => process.on('message', (m: ParentMessage) => m.type === 'go' && resolve()));
  send({ type: 'ready' });
  await go;
  const stopGc = meterGc();
  // BENCH_CPU_PROFILE=<dir>: a V8 CPU profile of the measured part, one file per child
  // (<system>-<role>-<pid>.cpuprofile; summarise with src/summarise-profile.ts).
  const profileDir = process.env.BENCH_CPU_PROFILE;
  const session = profileDir ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const result = await run();
  const cpu = process.cpuUsage(cpu0);
  if (session && profileDir) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(profileDir, `${job.system}-${job.role}-${process.pid}.cpuprofile`), JSON.stringify(profile));
  }
  result.cpuMs = (cpu.user + cpu.system) / 1000;
  result.gcMs = (await stopGc()).ms;
  send({ type: 'result', result });
  process.disconnect?.();
  // Libraries may keep timers (reconnect, heartbeats): the result is in, leave.
  setTimeout(() => process.exit(0), 200).unref();
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 200).unref();
});
