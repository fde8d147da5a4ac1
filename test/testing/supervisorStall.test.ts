/**
 * The test harness must not call a runtime settled while a supervisor holds work that nothing
 * will carry out (the hang of issue 9, fault 1, passed for "settled" before).
 */
import test from 'ava';
import { createTestRuntime, StalledError } from '../../src/testing/index.js';
import { supervisor } from '../../src/index.js';
import type { Context } from '../../src/supervisor/supervisorMachine.js';
import { startSup, workerSpec } from '../helpers/otpSupervisorHelpers.js';

test('flush() throws StalledError, naming the supervisor, when a running supervisor has queued events that nothing replays', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ children: [workerSpec('a')] }), 'top');
  await rt.flush();
  // Put the supervisor in the state the old executor left it in: quiet, with work queued.
  const core = (rt.actorOf(sup)!.getSnapshot() as { context: Context }).context.core;
  core.queue.push({ type: 'xotp.down', ref: 'none', pid: undefined, target: 'none', reason: 'normal' });
  const err = await t.throwsAsync(rt.flush(), { instanceOf: StalledError });
  t.is(err?.code, 'stalled');
  t.is(err?.stalls.length, 1);
  t.regex(err!.stalls[0]!, /^supervisor <test\.\d+> \(test\/top\) at rest in running \(op none, 0 planned step\(s\), 1 queued event\(s\)\)$/);
  // Any event moves it on again (which is how the hang hid): then the runtime is settled.
  rt.send(sup, { type: 'nudge' });
  await t.notThrowsAsync(rt.flush());
});

test('flush() does not report a supervisor that waits on a child (a slow shutdown on the clock) as stalled', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ children: [workerSpec('a', { shutdown: 1000 }, { trap: true, terminateMs: 500 })] }));
  rt.exit(sup, 'shutdown');
  await t.notThrowsAsync(rt.flush());
  t.true(rt.isAlive(sup), 'still waiting for a to finish terminating');
  await rt.advance(500);
  t.false(rt.isAlive(sup));
});
