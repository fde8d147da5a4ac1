import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';

/*
 * Orphan sweep. A bridge's Python process dies with its host (the control pipe closes,
 * PR_SET_PDEATHSIG on Linux), but what a handler started itself (a multiprocessing worker, a
 * subprocess) does not, and neither does a bridge whose host died while the platform offered
 * neither. So each run of a pool marks its processes with a run id in their environment
 * (`XOTP_RUN_ID=<pool>:<nanoid>`, `XOTP_POOL=<pool>`; children inherit both) and records the run
 * in a state file. A pool started under the same name later ends the processes of its earlier
 * runs whose host is dead, and only those: a process is killed only when its own environment
 * (read from /proc/<pid>/environ) carries that dead run's id and the pool's name. Without /proc
 * (macOS, Windows) the sweep does nothing.
 */

/** What a pool's state file records: one per run. */
export interface PoolRunRecord {
  pool: string;
  runId: string;
  /** The Node process that ran the pool: while it lives, its run is never swept. */
  hostPid: number;
  /** ISO time the run started (for people reading the file). */
  startedAt: string;
}

/** What a sweep did. */
export interface OrphanSweepResult {
  /** Earlier runs found whose host is dead (their files are removed). */
  runs: string[];
  /** OS pids killed (SIGKILL): processes carrying one of those runs' ids. */
  killed: number[];
  /** Set when the sweep could not look: no /proc on this platform. */
  skipped?: 'no /proc';
}

/** The default directory of pools' state files: `<os.tmpdir()>/xotp-<uid>`. */
export function defaultStateDir(): string {
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : userInfo().username;
  return join(tmpdir(), `xotp-${user}`);
}

const fileName = (pool: string, hostPid: number, nonce: string) => `${encodeURIComponent(pool)}.${hostPid}.${nonce}.json`;

/** The environment that marks a pool run's processes. */
export function runEnvironment(record: PoolRunRecord): Record<string, string> {
  return { XOTP_RUN_ID: record.runId, XOTP_POOL: record.pool };
}

/**
 * One run of a pool: its run id and its state file, written atomically (a temporary file
 * renamed over it, so a reader never sees half a record) and removed when the run ends.
 */
export class PoolRun {
  readonly record: PoolRunRecord;
  readonly file: string;

  constructor(pool: string, dir: string) {
    const nonce = nanoid(10);
    this.record = { pool, runId: `${pool}:${nonce}`, hostPid: process.pid, startedAt: new Date().toISOString() };
    this.file = join(dir, fileName(pool, process.pid, nonce.replace(/[^\w-]/g, '_')));
  }

  /** Writes the state file. Failing to write it only disables the sweep for this run. */
  write(): boolean {
    try {
      mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.record), { mode: 0o600 });
      renameSync(tmp, this.file);
      return true;
    } catch {
      return false;
    }
  }

  remove(): void {
    rmSync(this.file, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by someone else (a reused pid): not ours to call dead.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The environment of OS process `pid` as NAME=value strings, or undefined if unreadable. */
function environOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
  } catch {
    return undefined; // gone, or another user's
  }
}

/**
 * Ends the leftovers of `pool`'s earlier runs recorded in `dir` whose host process is dead: every
 * process whose environment carries such a run's id and the pool's name is SIGKILLed, and the
 * run's file removed. Runs of live hosts (this one included) are left alone.
 */
export function sweepOrphans(pool: string, dir: string): OrphanSweepResult {
  const result: OrphanSweepResult = { runs: [], killed: [] };
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return result; // no state directory: no earlier run
  }
  const prefix = `${encodeURIComponent(pool)}.`;
  const dead = new Map<string, string>(); // run id -> its file
  for (const f of files) {
    if (!f.startsWith(prefix) || !f.endsWith('.json')) continue;
    let record: Partial<PoolRunRecord>;
    try {
      record = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Partial<PoolRunRecord>;
    } catch {
      continue; // unreadable or half-written by someone else: not evidence of anything
    }
    if (record.pool !== pool || typeof record.runId !== 'string' || typeof record.hostPid !== 'number') continue;
    if (record.hostPid === process.pid || alive(record.hostPid)) continue;
    dead.set(record.runId, join(dir, f));
  }
  if (dead.size === 0) return result;
  if (!existsSync('/proc/self/environ')) return { ...result, skipped: 'no /proc' };
  const poolVar = `XOTP_POOL=${pool}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const env = environOf(pid);
    if (!env || !env.includes(poolVar)) continue;
    const runVar = env.find((v) => v.startsWith('XOTP_RUN_ID='));
    if (runVar === undefined || !dead.has(runVar.slice('XOTP_RUN_ID='.length))) continue;
    try {
      process.kill(pid, 'SIGKILL');
      result.killed.push(pid);
    } catch {
      // It ended meanwhile.
    }
  }
  for (const [runId, file] of dead) {
    result.runs.push(runId);
    rmSync(file, { force: true });
  }
  return result;
}
