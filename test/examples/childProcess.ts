/**
 * Helpers for tests that run a program as a child process (the demo, the xotp command, the
 * embedding example): its output line by line, its exit, and the Python processes it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Child {
  proc: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first stdout line matching `re` (rejects if the child exits first). */
  line(re: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `node --import tsx <args>` from the repository root, with no shell. */
export function runTs(args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return wrap(proc);
}

export function wrap(proc: ChildProcess): Child {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  let partial = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      stdout.push(l);
      for (const w of [...waiters]) if (w.re.test(l)) waiters.splice(waiters.indexOf(w), 1), w.resolve(l);
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('close', (code, signal) => {
      if (partial) stdout.push(partial);
      resolve({ code, signal });
    }),
  );
  return {
    proc,
    stdout,
    stderr,
    exited,
    line: (re) => {
      const seen = stdout.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return Promise.race([
        new Promise<string>((resolve) => waiters.push({ re, resolve })),
        exited.then(({ code }) => {
          throw new Error(`exited (${code}) before a line matching ${re}; stdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('')}`);
        }),
      ]);
    },
  };
}

/**
 * Live Python bridge processes started by the Node process `parent`: found by the
 * XOTP_BRIDGE_PARENT_PID every bridge is given, so they are found after their parent has exited
 * too (when they would have been re-parented).
 */
export function pythonOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(`XOTP_BRIDGE_PARENT_PID=${parent}`)) out.push(Number(entry));
    } catch {
      // It vanished while we looked, or is not ours to read.
    }
  }
  return out;
}

/** Polls (every 20 ms, at most `limitMs`) until `cond()` holds; for OS processes, outside any runtime. */
export async function until(cond: () => boolean, limitMs: number, what: string): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
