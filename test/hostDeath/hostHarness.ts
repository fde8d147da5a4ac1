/**
 * Runs test/fixtures/hostProcess.ts in a child Node process, learns the OS pids of its Python
 * workers from the markers they write, SIGKILLs the host, and reports which of them are still
 * alive 1 s later. Nothing in the test process can observe the end of a process that is not
 * its child, so the OS is polled, each wait with a real-time bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { osAlive } from '../helpers/bridge.js';

const HOST = fileURLToPath(new URL('../fixtures/hostProcess.ts', import.meta.url));

export interface Host {
  readonly proc: ChildProcess;
  readonly dir: string;
  stderr(): string;
  /** Resolves with the first stdout line (rejects if the host exits first). */
  line(): Promise<string>;
  /** Waits (polling, bounded) until `count` markers `<prefix>-<pid>` exist; returns their pids. */
  markers(prefix: string, count: number, limitMs?: number): Promise<number[]>;
  /** SIGKILLs the host; resolves once it is gone. */
  kill(): Promise<void>;
  /** Kills whatever is left (host and `pids`), removes the marker directory. */
  cleanup(pids: number[]): void;
}

export function startHost(mode: string, env: Record<string, string> = {}): Host {
  const dir = mkdtempSync(join(tmpdir(), 'xotp-host-'));
  const proc = spawn(process.execPath, ['--import', 'tsx', HOST, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, XOTP_FIXTURE_DIR: dir },
  });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(proc, 'exit');
  let stdout = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const host: Host = {
    proc,
    dir,
    stderr: () => stderr,
    line: async () => {
      for (;;) {
        const nl = stdout.indexOf('\n');
        if (nl >= 0) return stdout.slice(0, nl);
        await Promise.race([
          once(proc.stdout!, 'data'),
          exited.then(([code, signal]) => {
            throw new Error(`the host exited first (${String(code ?? signal)}): ${stderr}`);
          }),
        ]);
      }
    },
    markers: async (prefix, count, limitMs = 60_000) => {
      const deadline = Date.now() + limitMs;
      for (;;) {
        const pids = readdirSync(dir)
          .filter((f) => f.startsWith(`${prefix}-`))
          .map((f) => Number(f.slice(prefix.length + 1)));
        if (pids.length >= count) return pids.sort((a, b) => a - b);
        if (proc.exitCode !== null) throw new Error(`the host exited (${proc.exitCode}): ${stderr}`);
        if (Date.now() >= deadline) throw new Error(`only ${pids.length} of ${count} '${prefix}' markers after ${limitMs} ms: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
    cleanup: (pids) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      for (const pid of pids) if (osAlive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return host;
}

/** The pids still running `limitMs` after now (polling every 10 ms, stopping once all are gone). */
export async function aliveAfter(pids: number[], limitMs: number): Promise<number[]> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const alive = pids.filter(osAlive);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
