/**
 * "Killing Node never leaves Python orphans" (DESIGN.md "Bridge"): a child Node process
 * (test/fixtures/ownerProcess.ts) starts a bridge and prints its Python pid; SIGKILL of that Node
 * process must leave no Python process 1 s later. Nothing in this process can observe the Python
 * process's end (it is not our child), so the OS is polled, with a 1 s real-time deadline.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { OWNER_PROCESS, osAlive, waitOsGone } from '../helpers/bridge.js';
import { aliveAfter, startHost } from '../hostDeath/hostHarness.js';

test.serial('SIGKILL of the Node process that owns a bridge leaves no Python process 1 s later', async (t) => {
  const owner = spawn(process.execPath, ['--import', 'tsx', OWNER_PROCESS], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  owner.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const ownerGone = once(owner, 'exit');
  let pyPid: number | undefined;
  try {
    const lines = createInterface({ input: owner.stdout });
    const first = await Promise.race([
      once(lines, 'line').then(([line]) => String(line)),
      ownerGone.then(([code, signal]) => {
        throw new Error(`the owner exited first (${String(code ?? signal)}): ${stderr}`);
      }),
    ]);
    pyPid = Number(first);
    t.true(Number.isInteger(pyPid) && pyPid > 0, `owner printed ${first}`);
    t.true(osAlive(pyPid), 'the Python process runs');
    t.regex(readFileSync(`/proc/${pyPid}/cmdline`, 'utf8'), /xotp_bridge/, 'and it is the bridge, not a reused pid');

    owner.kill('SIGKILL');
    const [, signal] = await ownerGone;
    t.is(signal, 'SIGKILL');
    t.true(await waitOsGone(pyPid, 1000), `python pid ${pyPid} still runs 1 s after its owner was SIGKILLed`);
  } finally {
    if (owner.exitCode === null && owner.signalCode === null) owner.kill('SIGKILL');
    // Never leave a Python process behind for the other tests, whatever failed above.
    if (pyPid !== undefined && osAlive(pyPid)) process.kill(pyPid, 'SIGKILL');
  }
});

// Why it failed: "exit when the owner dies" was armed in serve(), after the user's module was
// imported: during a slow import (ML libraries take seconds) nothing watched the control pipe
// and PR_SET_PDEATHSIG was not yet set, so a killed host left every Python process alive until
// its import ended. python -m xotp_bridge now arms it first (a thread reading the control pipe
// until the server takes it over; PR_SET_PDEATHSIG on Linux, a parent-pid poll elsewhere), and
// scripts run through it too.
test.serial('regression: Python outlives its killed host while importing — SIGKILL during a 20 s import leaves no Python process 1 s later', async (t) => {
  const host = startHost('bridges', { XOTP_FIXTURE_IMPORT_SECONDS: '20' });
  let pids: number[] = [];
  try {
    pids = await host.markers('started', 4);
    t.is(pids.length, 4, 'two module bridges and two script bridges are importing');
    for (const pid of pids) t.regex(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /xotp_bridge/);
    await host.kill();
    t.deepEqual(await aliveAfter(pids, 1000), [], 'no Python process of the host is alive 1 s after it was SIGKILLed');
  } finally {
    host.cleanup(pids);
  }
});

test.serial('regression: Python outlived its killed host during an import that holds the GIL — PR_SET_PDEATHSIG was armed only after the handshake or by a thread that needs the GIL', async (t) => {
  const host = startHost('bridges', { XOTP_FIXTURE_IMPORT_HOLD_GIL: '1' });
  let pids: number[] = [];
  try {
    pids = await host.markers('gil', 4);
    t.is(pids.length, 4, 'two module bridges and two script bridges are importing, holding the GIL');
    // The kernel's guard is armed on the main thread before any user code runs (a thread of its
    // own could only arm it once it got the GIL, which such an import does not give up).
    const armed = pids.map((pid) => readFileSync(`${host.dir}/gil-${pid}`, 'utf8'));
    await host.kill();
    t.deepEqual(await aliveAfter(pids, 1000), [], 'no Python process of the host is alive 1 s after it was SIGKILLed');
    t.deepEqual(armed, ['9', '9', '9', '9'], 'PR_SET_PDEATHSIG = SIGKILL on the main thread');
  } finally {
    host.cleanup(pids);
  }
});
