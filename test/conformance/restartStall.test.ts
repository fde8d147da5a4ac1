/**
 * A one_for_all / rest_for_one restart whose plan passes over a temporary bystander (removed
 * when it was terminated, so there is nothing to start again) must carry on to the end of the
 * plan by itself (otp-semantics rules 25, 28, 29; OTP's temporary_bystander).
 *
 * Regression notes: the executor used to pass over such a start with a step that changed the
 * supervisor's core in place and left xstate's snapshot as it was; xstate does not re-check
 * eventless transitions on an unchanged snapshot, so the restart stopped there until an
 * unrelated message reached the supervisor. And `flush()` called that runtime settled.
 */
import test from 'ava';
import { createTestRuntime, StalledError } from '../../src/testing/index.js';
import { countChildren, supervisor, whichChildren, type Pid } from '../../src/index.js';
import { livePid, startSup, workerSpec } from '../helpers/otpSupervisorHelpers.js';

type Rt = ReturnType<typeof createTestRuntime>;

/** Restarts traced for `sup`, by child id, in order. */
const restarted = (rt: Rt, sup: Pid) =>
  rt.trace
    .of('supervisor.childStarted')
    .filter((e) => e.supervisor.id === sup.id && e.restart)
    .map((e) => e.id);

test('regression: restart stalls after a removed temporary sibling (rest_for_one [a, t temporary, c]): crashing a restarts a and c with no other message reaching the supervisor', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(
    rt,
    supervisor({
      strategy: 'rest_for_one',
      maxRestarts: 3,
      maxSeconds: 60,
      children: [workerSpec('a'), workerSpec('t', { restart: 'temporary' }), workerSpec('c')],
    }),
  );
  const a = await livePid(rt, sup, 'a');
  const tPid = await livePid(rt, sup, 't');
  const c = await livePid(rt, sup, 'c');
  rt.trace.clear();
  rt.exit(a, 'crash');
  await rt.flush();
  // Read from the trace first: asking the supervisor anything would itself move a stalled plan on.
  t.deepEqual(restarted(rt, sup), ['a', 'c']);
  t.false(rt.isAlive(tPid));
  t.false(rt.isAlive(c));
  t.deepEqual(
    (await whichChildren(rt, sup)).map((r) => r.id),
    ['c', 'a'],
    'the temporary bystander is gone',
  );
  t.deepEqual(await countChildren(rt, sup), { specs: 2, active: 2, supervisors: 0, workers: 2 });
});

test('regression: restart stalls after a removed temporary sibling (one_for_all [a, t1, t2 temporary]): whichChildren right after a crash resolves, and flush() does not call a stalled runtime settled', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(
    rt,
    supervisor({
      strategy: 'one_for_all',
      maxRestarts: 3,
      maxSeconds: 60,
      children: [workerSpec('a'), workerSpec('t1', { restart: 'temporary' }), workerSpec('t2', { restart: 'temporary' })],
    }),
  );
  const a = await livePid(rt, sup, 'a');
  rt.exit(a, 'crash');
  let rows: Awaited<ReturnType<typeof whichChildren>> | undefined;
  const asked = whichChildren(rt, sup).then((r) => (rows = r));
  // flush() either settles with the answer in hand or reports the stall (StalledError); it
  // must never return quietly while the call waits behind a plan that nothing moves on.
  const flushed = await rt.flush().then(
    () => 'settled',
    (err: unknown) => (err instanceof StalledError ? `stalled: ${err.message}` : `failed: ${String(err)}`),
  );
  t.is(flushed, 'settled');
  t.not(rows, undefined, 'whichChildren answered');
  await asked;
  t.deepEqual(rows!.map((r) => r.id), ['a']);
  t.true(typeof rows![0]!.pid === 'object' && rt.isAlive(rows![0]!.pid) && rows![0]!.pid.id !== a.id);
});

for (const strategy of ['one_for_all', 'rest_for_one'] as const) {
  test(`regression: restart stalls after a removed temporary sibling (${strategy}, bystander in the middle and at the end): every permanent child is restarted, in start order`, async (t) => {
    await using rt = createTestRuntime();
    const sup = await startSup(
      rt,
      supervisor({
        strategy,
        maxRestarts: 10,
        maxSeconds: 60,
        children: [
          workerSpec('a'),
          workerSpec('t1', { restart: 'temporary' }),
          workerSpec('b'),
          workerSpec('t2', { restart: 'temporary' }),
          workerSpec('t3', { restart: 'temporary' }),
          workerSpec('c', { restart: 'transient' }),
          workerSpec('t4', { restart: 'temporary' }),
        ],
      }),
    );
    rt.trace.clear();
    rt.exit(await livePid(rt, sup, 'a'), 'crash');
    await rt.flush();
    t.deepEqual(restarted(rt, sup), ['a', 'b', 'c']);
    t.deepEqual(await countChildren(rt, sup), { specs: 3, active: 3, supervisors: 0, workers: 3 });
  });
}
