/**
 * Orphan sweep (issue 12): a pool marks its Python processes with its run id (`XOTP_RUN_ID`,
 * `XOTP_POOL`) and records the run in a state file; started again under the same name after its
 * host died, it ends what that earlier run left behind — verified through each process's own
 * environment — and never a process it did not start. A real orphan is hard to make (a bridge
 * dies with its host), so the leftover here is a Python process started by the test with a dead
 * run's environment, and the state file is written as the dead host would have written it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pool, resolvePython } from '../../src/index.js';
import { defaultStateDir, sweepOrphans } from '../../src/workers/orphanSweep.js';
import { nextEvent, osPidOf, startPool } from '../helpers/pool.js';

const hasProc = existsSync('/proc/self/environ');

function stateDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'xotp-orphans-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A pid that belonged to a process that has exited: a host that died. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

/** A sleeping Python process carrying `env`, as a leftover of some run would. */
async function sleeper(t: { teardown(fn: () => void): void }, env: Record<string, string>): Promise<{ child: ChildProcess; exited: Promise<NodeJS.Signals | null> }> {
  const exe = await resolvePython(process.env.XOTP_PYTHON || 'python3');
  const child = spawn(exe, ['-c', 'import time; time.sleep(60)'], { stdio: 'ignore', detached: true, env: { ...process.env, ...env } });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  await new Promise((resolve) => child.once('spawn', resolve));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, exited };
}

function writeRun(dir: string, pool: string, runId: string, hostPid: number): string {
  const file = join(dir, `${pool}.${hostPid}.${runId.split(':')[1]}.json`);
  writeFileSync(file, JSON.stringify({ pool, runId, hostPid, startedAt: new Date(0).toISOString() }));
  return file;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

(hasProc ? test.serial : test.serial.skip)("a pool started again ends its dead host's leftovers, and only processes carrying that run's id", async (t) => {
  const dir = stateDir(t);
  const dead = await deadPid();
  const leftover = await sleeper(t, { XOTP_RUN_ID: 'p:deadrun', XOTP_POOL: 'p' });
  const otherRun = await sleeper(t, { XOTP_RUN_ID: 'p:otherrun', XOTP_POOL: 'p' });
  const otherPool = await sleeper(t, { XOTP_RUN_ID: 'p:deadrun', XOTP_POOL: 'q' });
  const liveHost = await sleeper(t, { XOTP_RUN_ID: 'p:liverun', XOTP_POOL: 'p' });
  const deadFile = writeRun(dir, 'p', 'p:deadrun', dead);
  // A run whose host is alive (here: the sleeper itself stands for a live host) is never swept.
  const liveFile = writeRun(dir, 'p', 'p:liverun', liveHost.child.pid!);

  await using rt = createTestRuntime();
  const swept = nextEvent(rt, 'pool.orphansSwept');
  const { sup, status } = await startPool(rt, { name: 'p', size: 1, orphans: { stateDir: dir } });
  t.deepEqual(await swept, { pool: 'p', runs: ['p:deadrun'], killed: [leftover.child.pid!] });
  t.is(await leftover.exited, 'SIGKILL');
  t.true(isAlive(otherRun.child.pid!), 'another run of the pool is left alone');
  t.true(isAlive(otherPool.child.pid!), 'another pool with the same run id is left alone');
  t.true(isAlive(liveHost.child.pid!), 'a run whose host lives is left alone');
  t.false(existsSync(deadFile), "the dead run's file is removed");
  t.true(existsSync(liveFile));
  t.true(rt.logs.at('warn').some((r) => r.message.includes(`ended 1 leftover process(es)`) && r.message.includes(String(leftover.child.pid))));

  // This run is recorded, and its worker carries its id in its environment.
  const mine = readdirSync(dir).filter((f) => f.startsWith(`p.${process.pid}.`));
  t.is(mine.length, 1);
  const record = JSON.parse(readFileSync(join(dir, mine[0]!), 'utf8')) as { runId: string; hostPid: number; pool: string };
  t.like(record, { pool: 'p', hostPid: process.pid });
  t.regex(record.runId, /^p:[\w-]{10}$/);
  const environ = readFileSync(`/proc/${await osPidOf(rt, status.workers[0]!.pid)}/environ`, 'latin1').split('\0');
  t.true(environ.includes(`XOTP_RUN_ID=${record.runId}`));
  t.true(environ.includes('XOTP_POOL=p'));
  t.is((await Pool.run(rt, 'p', 'echo', 1)) as number, 1);

  await rt.stop(sup);
  t.false(existsSync(join(dir, mine[0]!)), 'a pool that stops removes its own record');
});

(hasProc ? test.serial : test.serial.skip)('sweepOrphans skips runs of live hosts (this one included) and unreadable files', async (t) => {
  const dir = stateDir(t);
  const mine = await sleeper(t, { XOTP_RUN_ID: 'p:mine', XOTP_POOL: 'p' });
  writeRun(dir, 'p', 'p:mine', process.pid);
  writeFileSync(join(dir, 'p.1.broken.json'), '{ half a rec');
  t.deepEqual(sweepOrphans('p', dir), { runs: [], killed: [] });
  t.true(isAlive(mine.child.pid!));
  t.deepEqual(sweepOrphans('p', join(dir, 'missing')), { runs: [], killed: [] });
});

test.serial('orphans: false writes no state file and passes no run id; the default directory is per user', async (t) => {
  await using rt = createTestRuntime();
  const { status } = await startPool(rt, { name: 'p-off', size: 1, orphans: false });
  const dir = defaultStateDir();
  t.deepEqual(existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(`p-off.${process.pid}.`)) : [], []);
  if (hasProc) {
    const environ = readFileSync(`/proc/${await osPidOf(rt, status.workers[0]!.pid)}/environ`, 'latin1');
    t.false(environ.includes('XOTP_RUN_ID='));
  }
  t.is(defaultStateDir(), join(tmpdir(), `xotp-${process.getuid?.() ?? ''}`));
});
