/**
 * Restart intensity (otp-semantics §1.7, rules 34–42): ★ multiple_restarts (§2.1 scenario 31),
 * the counting rule, what does not count, and the escalation chain through a supervision tree
 * three levels deep.
 *
 * The one documented difference from OTP: timestamps are milliseconds on the runtime clock, so
 * the window is exactly `maxSeconds` long, inclusive (OTP counts whole seconds, so its window is
 * between maxSeconds and maxSeconds + 1 s).
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  deleteChild,
  restartChild,
  startChild,
  supervisor,
  terminateChild,
  whichChildren,
  type ChildSpec,
  type Pid,
  type RestartType,
} from '../../src/index.js';
import { assertExited, counts, exitReason, livePid, startLinked, startSup, terminate, workerSpec } from '../helpers/otpSupervisorHelpers.js';

type Rt = ReturnType<typeof createTestRuntime>;

test('★ multiple_restarts: intensity 1, period 1 s: a crash, then 3 more crashes each 2.1 s apart → every one is restarted and the supervisor survives (old restarts leave the window)', async (t) => {
  await using rt = createTestRuntime();
  const { sup, exitsFrom } = await startLinked(rt, supervisor({ strategy: 'one_for_one', maxRestarts: 1, maxSeconds: 1 }), 'sup_test');
  const r = await startChild(rt, sup, workerSpec('child1', { restart: 'permanent', shutdown: 'brutal_kill' }));
  let pid = (r as { pid: Pid }).pid;
  const seen = [pid.id];
  await terminate(rt, pid, 'abnormal');
  for (let i = 0; i < 3; i++) {
    await rt.advance(2100);
    pid = await livePid(rt, sup, 'child1');
    seen.push(pid.id);
    await terminate(rt, pid, 'abnormal');
  }
  t.true(rt.isAlive(sup));
  t.deepEqual(exitsFrom(), []);
  t.is(new Set(seen).size, 4, 'a new pid after every crash');
  t.true(rt.isAlive(await livePid(rt, sup, 'child1')));
  t.deepEqual(await terminateChild(rt, sup, 'child1'), { ok: true });
  t.deepEqual(await deleteChild(rt, sup, 'child1'), { ok: true });
  t.deepEqual(rt.trace.of('supervisor.intensityReached'), []);
});

test('intensity window (documented xotp difference): I=1, maxSeconds 1: crashes exactly 1000 ms apart kill the supervisor (inclusive, as OTP); 1001 ms apart they do not (OTP counts whole seconds and may still count it)', async (t) => {
  await using rt = createTestRuntime();
  const exact = await startSup(rt, supervisor({ maxRestarts: 1, maxSeconds: 1, children: [workerSpec('c')] }));
  const later = await startSup(rt, supervisor({ maxRestarts: 1, maxSeconds: 1, children: [workerSpec('c')] }));
  await terminate(rt, await livePid(rt, exact, 'c'), 'crash');
  await terminate(rt, await livePid(rt, later, 'c'), 'crash');
  await rt.advance(1000);
  await terminate(rt, await livePid(rt, exact, 'c'), 'crash');
  assertExited(t, rt, exact, 'shutdown');
  await rt.advance(1);
  await terminate(rt, await livePid(rt, later, 'c'), 'crash');
  t.true(rt.isAlive(later));
});

test('intensity: one restart list for all children (rule 34): I=1 — a crash of a, then a crash of b within the period → shutdown', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 1, maxSeconds: 60, children: [workerSpec('a'), workerSpec('b')] }));
  await terminate(rt, await livePid(rt, sup, 'a'), 'crash');
  t.true(rt.isAlive(sup));
  await rt.advance(30_000);
  await terminate(rt, await livePid(rt, sup, 'b'), 'crash');
  assertExited(t, rt, sup, 'shutdown');
});

test('intensity: only real restart attempts count (rule 38): with intensity 0 the supervisor survives temporary exits, clean transient exits, start/terminate/restart/delete_child and bystander terminations', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(
    rt,
    supervisor({
      strategy: 'one_for_one',
      maxRestarts: 0,
      maxSeconds: 3600,
      children: [workerSpec('perm'), workerSpec('trans', { restart: 'transient' }), workerSpec('temp', { restart: 'temporary' })],
    }),
  );
  await terminate(rt, await livePid(rt, sup, 'temp'), 'crash'); // temporary, abnormal: removed
  rt.cast(await livePid(rt, sup, 'trans'), { exit: { shutdown: 'done' } }); // transient, clean
  await rt.flush();
  t.deepEqual(await terminateChild(rt, sup, 'perm'), { ok: true });
  t.like(await restartChild(rt, sup, 'perm'), { ok: true });
  t.deepEqual(await terminateChild(rt, sup, 'perm'), { ok: true });
  t.deepEqual(await deleteChild(rt, sup, 'perm'), { ok: true });
  t.like(await startChild(rt, sup, workerSpec('new')), { ok: true });
  t.like(await restartChild(rt, sup, 'trans'), { ok: true });
  t.true(rt.isAlive(sup));
  t.deepEqual(await counts(rt, sup), [2, 2, 0, 2]);

  // Bystanders: a one_for_all group restart is one restart; with intensity 1 the bystanders'
  // terminations do not push it over.
  const group = await startSup(rt, supervisor({ strategy: 'one_for_all', maxRestarts: 1, maxSeconds: 3600, children: [workerSpec('x'), workerSpec('y'), workerSpec('z')] }));
  await terminate(rt, await livePid(rt, group, 'y'), 'crash');
  t.true(rt.isAlive(group));
  t.deepEqual(await counts(rt, group), [3, 3, 0, 3]);
});

test('intensity: a rest_for_one restart of several children counts as one restart (rule 39): I=1 — crash the first of 3 → alive; crash again → shutdown', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ strategy: 'rest_for_one', maxRestarts: 1, maxSeconds: 3600, children: [workerSpec('a'), workerSpec('b'), workerSpec('c')] }));
  await terminate(rt, await livePid(rt, sup, 'a'), 'crash');
  t.true(rt.isAlive(sup));
  t.deepEqual(await counts(rt, sup), [3, 3, 0, 3]);
  await terminate(rt, await livePid(rt, sup, 'c'), 'crash');
  assertExited(t, rt, sup, 'shutdown');
});

test('intensity reached (rule 35): the supervisor deletes the failing child, stops the others in reverse start order, and exits shutdown; the linked parent gets EXIT shutdown', async (t) => {
  await using rt = createTestRuntime();
  const { sup, exitsFrom } = await startLinked(rt, supervisor({ maxRestarts: 0, children: [workerSpec('a'), workerSpec('b'), workerSpec('c'), workerSpec('d')] }));
  const [a, b, d] = [await livePid(rt, sup, 'a'), await livePid(rt, sup, 'b'), await livePid(rt, sup, 'd')];
  rt.trace.clear();
  await terminate(rt, await livePid(rt, sup, 'c'), 'crash');
  t.deepEqual(
    rt.trace.exits().map((e) => [e.pid.id === sup.id ? 'sup' : e.id.split('/').pop(), e.reason]),
    [
      ['c', 'crash'],
      ['d', 'shutdown'],
      ['b', 'shutdown'],
      ['a', 'shutdown'],
      ['sup', 'shutdown'],
    ],
  );
  t.deepEqual(exitsFrom(), ['shutdown']);
  t.deepEqual(rt.trace.of('supervisor.intensityReached').map((e) => e.id), ['c']);
  for (const p of [a, b, d]) t.false(rt.isAlive(p));
});

// --- escalation through a three-level tree (rule 42) --------------------------------------

/**
 * top (one_for_one, intensity topMax)
 * ├── a   (supervisor, restart aRestart; one_for_one, intensity 0)
 * │   ├── a1  (supervisor, restart a1Restart; one_for_one, intensity 1)
 * │   │   ├── crasher
 * │   │   └── a1_sibling
 * │   └── a2
 * ├── b   (temporary supervisor) ── b_worker
 * └── c   (worker)
 * The crasher crashes twice: a1 reaches its intensity and exits shutdown.
 */
function tree(a1Restart: RestartType, aRestart: RestartType, topMax: number) {
  const a1 = supervisor({ maxRestarts: 1, maxSeconds: 3600, children: [workerSpec('crasher'), workerSpec('a1_sibling')] });
  const a = supervisor({ maxRestarts: 0, maxSeconds: 3600, children: [{ id: 'a1', start: a1, restart: a1Restart } satisfies ChildSpec, workerSpec('a2')] });
  const b = supervisor({ children: [workerSpec('b_worker')] });
  return supervisor({
    maxRestarts: topMax,
    maxSeconds: 3600,
    children: [{ id: 'a', start: a, restart: aRestart }, { id: 'b', start: b, restart: 'temporary' }, workerSpec('c')],
  });
}

const all = ['top', 'top/a', 'top/a/a1', 'top/a/a1/crasher', 'top/a/a1/a1_sibling', 'top/a/a2', 'top/b', 'top/b/b_worker', 'top/c'];
const without = (...prefixes: string[]) => all.filter((p) => !prefixes.some((x) => p === x || p.startsWith(`${x}/`)));

const cases: Array<{
  a1: RestartType;
  a: RestartType;
  topMax: number;
  alive: string[];
  /** Supervisors that reach their intensity, in order. */
  reached: string[];
  /** Processes that run with new pids afterwards. */
  renewed: string[];
  what: string;
}> = [
  { a1: 'permanent', a: 'permanent', topMax: 0, alive: [], reached: ['crasher', 'a1', 'a'], renewed: [], what: 'a restarts a1 → a exceeds 0 → top restarts a → top exceeds 0: everything stops' },
  {
    a1: 'permanent', a: 'permanent', topMax: 1, alive: all, reached: ['crasher', 'a1'],
    renewed: ['top/a', 'top/a/a1', 'top/a/a1/crasher', 'top/a/a1/a1_sibling', 'top/a/a2'],
    what: 'top restarts a (its one allowed restart): a fresh a subtree; b and c untouched',
  },
  { a1: 'permanent', a: 'transient', topMax: 0, alive: without('top/a'), reached: ['crasher', 'a1'], renewed: [], what: 'a exits shutdown, a clean exit of a transient child: not restarted, kept' },
  { a1: 'permanent', a: 'temporary', topMax: 0, alive: without('top/a'), reached: ['crasher', 'a1'], renewed: [], what: 'a exits shutdown and is removed' },
  { a1: 'transient', a: 'permanent', topMax: 0, alive: without('top/a/a1'), reached: ['crasher'], renewed: [], what: 'a1 exits shutdown: a transient child, not restarted; a and above untouched' },
  { a1: 'temporary', a: 'permanent', topMax: 0, alive: without('top/a/a1'), reached: ['crasher'], renewed: [], what: 'a1 exits shutdown and is removed; a and above untouched' },
];

for (const c of cases) {
  test(`escalation, three levels (a1 ${c.a1}, a ${c.a}, top intensity ${c.topMax}): ${c.what}`, async (t) => {
    await using rt = createTestRuntime();
    const top = await startSup(rt, tree(c.a1, c.a, c.topMax), 'top');
    const path = (p: Pid) => rt.info(p)?.id.replace(/^test\//, '');
    const before = new Map(rt.processes().map((p) => [path(p)!, p]));
    t.deepEqual([...before.keys()].sort(), [...all].sort());

    const a1 = before.get('top/a/a1')!;
    await terminate(rt, await livePid(rt, a1, 'crasher'), 'died');
    t.true(rt.isAlive(a1), 'the first crash is within a1\'s intensity');
    await terminate(rt, await livePid(rt, a1, 'crasher'), 'died');

    // Exactly what OTP would leave running, and nothing else.
    const after = new Map(rt.processes().map((p) => [path(p)!, p]));
    t.deepEqual([...after.keys()].sort(), [...c.alive].sort());
    for (const [p, pid] of after) {
      t.is(c.renewed.includes(p), pid.id !== before.get(p)!.id, `${p}: ${c.renewed.includes(p) ? 'restarted' : 'untouched'}`);
    }
    // Everything that stopped stopped with the reason OTP gives.
    for (const [p, pid] of before) {
      if (after.get(p)?.id === pid.id) continue;
      t.is(exitReason(rt, pid), p === 'top/a/a1/crasher' ? 'died' : 'shutdown', p);
    }
    t.deepEqual(
      rt.trace.of('supervisor.intensityReached').map((e) => e.id),
      c.reached,
      'which supervisors reached their intensity (named by the child they failed to restart)',
    );
    if (c.alive.includes('top')) {
      const rowsTop = (await whichChildren(rt, top)).map((r) => [r.id, r.pid === undefined ? 'undefined' : 'pid']);
      if (c.a === 'temporary' && !c.alive.includes('top/a')) t.deepEqual(rowsTop, [['c', 'pid'], ['b', 'pid']]);
      else if (!c.alive.includes('top/a')) t.deepEqual(rowsTop, [['c', 'pid'], ['b', 'pid'], ['a', 'undefined']]);
      if (c.alive.includes('top/a') && !c.alive.includes('top/a/a1')) {
        const a = after.get('top/a')!;
        const rowsA = (await whichChildren(rt, a)).map((r) => [r.id, r.pid === undefined ? 'undefined' : 'pid']);
        t.deepEqual(rowsA, c.a1 === 'temporary' ? [['a2', 'pid']] : [['a2', 'pid'], ['a1', 'undefined']]);
      }
    } else {
      assertExited(t, rt, top, 'shutdown');
    }
  });
}
