/** Spawn the built `taskq` binary as a user would, and collect what it prints. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/taskq.js', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: no broker URL or log level leaking in from the developer's shell. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('TASKQ_') || key.startsWith('CELERY_')) delete env[key];
  return { ...env, ...extra };
}

/** A running `taskq` process, with its output so far. */
export interface CliProcess {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  /** Resolves when the process has exited. */
  exited: Promise<CliRun>;
}

export function startCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? FIXTURES, env: cliEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    output.stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    output.stderr += d;
  });
  const exited = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, ...output }));
  });
  return { child, output, exited };
}

/** Run `taskq <args>` to completion. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  return startCli(args, options).exited;
}
