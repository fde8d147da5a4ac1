/**
 * Significant children and auto_shutdown (otp-semantics §1.10 rules 59–65), ported from the
 * `significant` group of OTP's supervisor_SUITE (§2.1 scenarios 84–90) and the §5.3 probe
 * lines `CHECK significant_any`, `CHECK significant_validation`, `CHECK significant_all`.
 *
 * Mapping: OTP's `sup_test` supervisor is `supervisor({ autoShutdown, children })` started at
 * the top level; the suite's `supervisor_1` child is test/helpers/otpWorkers `worker`, ended
 * with `exit(Pid, kill)` → `rt.exit(pid, 'kill')`, an abnormal exit → `cast {exit: 'died'}`, a
 * normal one → `cast {exit: 'normal'}`. "The supervisor EXITs with shutdown" is read from
 * `rt.exited(sup)`.
 *
 * Skipped:
 * - 91–97 `significant_upgrade_*`: they change auto_shutdown or a child's significance through
 *   a release upgrade (`code_change`). xotp has no code upgrade: a supervisor's flags are fixed
 *   when its logic is built. What maps of them — that significance is checked against the
 *   supervisor's mode when a child is added with `startChild` — is covered by
 *   `CHECK significant_validation` below.
 * - 88 `significant_simple` (simple_one_for_one with a significant template): xotp's dynamic
 *   supervisor follows Elixir's DynamicSupervisor, which refuses auto-shutdown (rule 65); that
 *   refusal is tested here, the start_child side of it in elixirDynamicSupervisor.test.ts.
 */
import test from 'ava';
import { createTestRuntime, type TestRuntime } from '../../src/testing/index.js';
import {
  supervisor,
  dynamicSupervisor,
  whichChildren,
  countChildren,
  terminateChild,
  restartChild,
  startChild,
  ChildSpecError,
  SupervisorFlagsError,
  type AutoShutdown,
  type ChildSpec,
  type ChildStartContext,
  type ExitReason,
  type Pid,
} from '../../src/index.js';
import { worker } from '../helpers/otpWorkers.js';
import { startSup, livePid, pidOfChild, endChild, gatedStart } from '../helpers/supervisorConformance.js';

type How = 'kill' | ExitReason;
const ways: Array<[string, How]> = [
  ['killed', 'kill'],
  ['abnormal', 'died'],
  ['normal', 'normal'],
];

const temp = (id: string, significant: boolean, log?: string[]): ChildSpec => ({
  id,
  start: worker,
  input: { id, log },
  restart: 'temporary',
  significant,
});
const trans = (id: string, significant: boolean, log?: string[]): ChildSpec => ({
  id,
  start: worker,
  input: { id, log },
  restart: 'transient',
  significant,
});

/** Asserts that `sup` auto-shut down: it exited with `shutdown` and none of `children` is alive. */
async function assertShutDown(t: import('ava').ExecutionContext, rt: TestRuntime, sup: Pid, children: Pid[], what: string) {
  await rt.flush();
  t.false(rt.isAlive(sup), `${what}: the supervisor has exited`);
  t.is(await rt.exited(sup), 'noproc');
  const exit = rt.trace.exits().find((e) => String(e.pid) === String(sup));
  t.is(exit?.reason, 'shutdown', `${what}: the supervisor exited with shutdown`);
  for (const c of children) t.false(rt.isAlive(c), `${what}: child ${c} exited too`);
}

// ---------------------------------------------------------------------------------------------
// 84, 85: children that are not significant never stop the supervisor

test('nonsignificant_temporary: in every auto_shutdown mode, terminate_child, kill, abnormal and normal exits of a non-significant temporary child leave the supervisor alive', async (t) => {
  await using rt = createTestRuntime();
  for (const mode of ['never', 'any_significant', 'all_significant'] as AutoShutdown[]) {
    const sup = await startSup(t, rt, supervisor({ autoShutdown: mode, maxRestarts: 0 }));
    const child = temp('child1', false);
    const started = await startChild(rt, sup, child);
    t.true(started.ok);
    t.deepEqual(await terminateChild(rt, sup, 'child1'), { ok: true });
    t.deepEqual(await whichChildren(rt, sup), [], `${mode}: a terminated temporary child is removed`);
    for (const [label, how] of ways) {
      const r = await startChild(rt, sup, child);
      if (!r.ok || r.pid === undefined) return t.fail(`${mode}/${label}: start_child failed`);
      await endChild(rt, r.pid, how);
      t.true(rt.isAlive(sup), `${mode}/${label}: the supervisor stays alive`);
      t.deepEqual(await whichChildren(rt, sup), [], `${mode}/${label}: the temporary child is removed`);
    }
    await rt.stop(sup, 'shutdown');
  }
});

test('nonsignificant_transient: in every auto_shutdown mode, a non-significant transient child is restarted after kill/abnormal, kept after normal/terminate_child, and the supervisor stays alive', async (t) => {
  await using rt = createTestRuntime();
  for (const mode of ['never', 'any_significant', 'all_significant'] as AutoShutdown[]) {
    const sup = await startSup(t, rt, supervisor({ autoShutdown: mode, maxRestarts: 10, children: [trans('child1', false)] }));
    t.deepEqual(await terminateChild(rt, sup, 'child1'), { ok: true });
    t.true(rt.isAlive(sup));
    t.is(await pidOfChild(rt, sup, 'child1'), undefined, `${mode}: terminate_child keeps the spec, not running`);
    const again = await restartChild(rt, sup, 'child1');
    t.true(again.ok);
    for (const [label, how] of ways) {
      const before = await livePid(rt, sup, 'child1');
      await endChild(rt, before, how);
      t.true(rt.isAlive(sup), `${mode}/${label}: the supervisor stays alive`);
      const after = await pidOfChild(rt, sup, 'child1');
      if (label === 'normal') {
        t.is(after, undefined, `${mode}/${label}: not restarted, spec kept`);
      } else {
        t.true(after !== undefined && after !== 'restarting' && String(after) !== String(before), `${mode}/${label}: restarted`);
      }
    }
    await rt.stop(sup, 'shutdown');
  }
});

// ---------------------------------------------------------------------------------------------
// ★ 86 significant_temporary

test('★ significant_temporary (any_significant): terminate_child of a significant temporary child does not shut the supervisor down', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(
    t,
    rt,
    supervisor({ autoShutdown: 'any_significant', children: [{ id: 'other', start: worker }, temp('child1', true)] }),
  );
  const child = await livePid(rt, sup, 'child1');
  t.deepEqual(await terminateChild(rt, sup, 'child1'), { ok: true });
  await rt.flush();
  t.false(rt.isAlive(child));
  t.true(rt.isAlive(sup), 'rule 62: terminate_child is not "terminating by itself"');
  t.deepEqual((await whichChildren(rt, sup)).map((c) => c.id), ['other'], 'the temporary spec is deleted');
  t.is(rt.trace.of('supervisor.shutdown').length, 0);
});

for (const [label, how] of ways) {
  test(`★ significant_temporary (any_significant): when a significant temporary child exits (${label}), all children and the supervisor exit with reason shutdown`, async (t) => {
    await using rt = createTestRuntime();
    const log: string[] = [];
    const sup = await startSup(
      t,
      rt,
      supervisor({
        autoShutdown: 'any_significant',
        children: [
          { id: 'first', start: worker, input: { id: 'first', trap: true, log } },
          temp('child1', true, log),
          { id: 'last', start: worker, input: { id: 'last', trap: true, log } },
        ],
      }),
    );
    const first = await livePid(rt, sup, 'first');
    const last = await livePid(rt, sup, 'last');
    const child = await livePid(rt, sup, 'child1');
    log.length = 0;
    await endChild(rt, child, how);
    await assertShutDown(t, rt, sup, [first, last], label);
    // Rule 63: the rest are terminated in the normal shutdown order (reverse start order).
    t.deepEqual(log.filter((l) => l.startsWith('terminate:') && !l.startsWith('terminate:child1')), [
      'terminate:last:shutdown',
      'terminate:first:shutdown',
    ]);
    t.is(rt.trace.of('supervisor.intensityReached').length, 0, 'not a restart-intensity shutdown');
  });
}

for (const [label, how] of ways) {
  test(`★ significant_temporary (all_significant): the 1st of 2 significant temporary children exiting (${label}) leaves the supervisor alive; the 2nd shuts it down`, async (t) => {
    await using rt = createTestRuntime();
    const sup = await startSup(
      t,
      rt,
      supervisor({
        autoShutdown: 'all_significant',
        children: [temp('child1', true), temp('child2', true), { id: 'other', start: worker }],
      }),
    );
    const other = await livePid(rt, sup, 'other');
    await endChild(rt, await livePid(rt, sup, 'child1'), how);
    t.true(rt.isAlive(sup), 'one significant child is still running');
    t.deepEqual((await whichChildren(rt, sup)).map((c) => c.id), ['other', 'child2']);
    await endChild(rt, await livePid(rt, sup, 'child2'), how);
    await assertShutDown(t, rt, sup, [other], label);
  });
}

test('★ significant_temporary (all_significant): a significant child stopped with terminate_child no longer counts as left, so the last one exiting shuts the supervisor down', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(
    t,
    rt,
    supervisor({ autoShutdown: 'all_significant', children: [temp('child1', true), temp('child2', true)] }),
  );
  t.deepEqual(await terminateChild(rt, sup, 'child1'), { ok: true });
  await rt.flush();
  t.true(rt.isAlive(sup), 'terminate_child never triggers auto-shutdown');
  await endChild(rt, await livePid(rt, sup, 'child2'), 'normal');
  await assertShutDown(t, rt, sup, [], 'last significant child');
});

// ---------------------------------------------------------------------------------------------
// 87 significant_transient

test('significant_transient (any_significant): kill and abnormal exits restart the child; terminate_child does not shut down; a normal exit does', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(
    t,
    rt,
    supervisor({ autoShutdown: 'any_significant', maxRestarts: 10, children: [{ id: 'other', start: worker }, trans('child1', true)] }),
  );
  const other = await livePid(rt, sup, 'other');
  for (const how of ['kill', 'died'] as How[]) {
    const before = await livePid(rt, sup, 'child1');
    await endChild(rt, before, how);
    t.true(rt.isAlive(sup), `${String(how)}: alive`);
    const after = await pidOfChild(rt, sup, 'child1');
    t.true(after !== undefined && after !== 'restarting' && String(after) !== String(before), `${String(how)}: restarted`);
  }
  t.deepEqual(await terminateChild(rt, sup, 'child1'), { ok: true });
  await rt.flush();
  t.true(rt.isAlive(sup), 'terminate_child does not trigger auto-shutdown');
  t.is(await pidOfChild(rt, sup, 'child1'), undefined);
  t.true((await restartChild(rt, sup, 'child1')).ok);
  await endChild(rt, await livePid(rt, sup, 'child1'), 'normal');
  await assertShutDown(t, rt, sup, [other], 'normal exit');
});

test('significant_transient (any_significant): exits with shutdown and {shutdown, _} also trigger auto-shutdown', async (t) => {
  await using rt = createTestRuntime();
  for (const reason of ['shutdown', { shutdown: 'some_info' }] as ExitReason[]) {
    rt.trace.clear();
    const sup = await startSup(t, rt, supervisor({ autoShutdown: 'any_significant', children: [trans('child1', true)] }));
    await endChild(rt, await livePid(rt, sup, 'child1'), reason);
    await assertShutDown(t, rt, sup, [], JSON.stringify(reason));
  }
});

test('significant_transient (all_significant): abnormal exits are restarted; the supervisor shuts down only once both significant children exited cleanly', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(
    t,
    rt,
    supervisor({ autoShutdown: 'all_significant', maxRestarts: 10, children: [trans('child1', true), trans('child2', true)] }),
  );
  await endChild(rt, await livePid(rt, sup, 'child1'), 'kill');
  await endChild(rt, await livePid(rt, sup, 'child2'), 'died');
  t.true(rt.isAlive(sup));
  t.is((await countChildren(rt, sup)).active, 2, 'both restarted');
  await endChild(rt, await livePid(rt, sup, 'child1'), 'normal');
  t.true(rt.isAlive(sup), 'child2 is still running');
  t.is(await pidOfChild(rt, sup, 'child1'), undefined, 'transient normal: spec kept, not running');
  await endChild(rt, await livePid(rt, sup, 'child2'), { shutdown: 'done' });
  await assertShutDown(t, rt, sup, [], 'both exited');
});

// ---------------------------------------------------------------------------------------------
// 88 significant_simple (as Elixir's DynamicSupervisor)

test('significant_simple: dynamic supervisors do not support auto-shutdown (rule 65): any other mode than never is invalid_auto_shutdown', (t) => {
  for (const mode of ['any_significant', 'all_significant']) {
    const err = t.throws(() => dynamicSupervisor({ autoShutdown: mode as 'never' }), { instanceOf: SupervisorFlagsError });
    t.is(err?.problem, 'invalid_auto_shutdown');
  }
  t.notThrows(() => dynamicSupervisor({ autoShutdown: 'never' }));
});

// ---------------------------------------------------------------------------------------------
// 89 significant_bystander

for (const strategy of ['one_for_all', 'rest_for_one'] as const) {
  test(`significant_bystander (${strategy}, any_significant): significant children terminated as bystanders of a sibling's restart do not shut the supervisor down`, async (t) => {
    await using rt = createTestRuntime();
    const sup = await startSup(
      t,
      rt,
      supervisor({
        strategy,
        autoShutdown: 'any_significant',
        maxRestarts: 10,
        children: [{ id: 'crasher', start: worker }, temp('sigTemp', true), trans('sigTrans', true)],
      }),
    );
    const crasher = await livePid(rt, sup, 'crasher');
    const sigTemp = await livePid(rt, sup, 'sigTemp');
    const sigTrans = await livePid(rt, sup, 'sigTrans');
    await endChild(rt, crasher, 'kill');
    t.true(rt.isAlive(sup), 'rule 62: no auto-shutdown for bystanders');
    t.false(rt.isAlive(sigTemp));
    t.false(rt.isAlive(sigTrans));
    const rows = await whichChildren(rt, sup);
    t.deepEqual(rows.map((r) => r.id), ['sigTrans', 'crasher'], 'the temporary bystander is removed, not restarted');
    t.true(rows.every((r) => r.pid !== undefined && r.pid !== 'restarting'), 'the others are running again');
    t.is(rt.trace.of('supervisor.shutdown').length, 0);
  });
}

test('significant_bystander (one_for_all, all_significant): a significant child restarted after an abnormal exit takes its significant sibling down as a bystander, without auto-shutdown', async (t) => {
  // The sibling's termination as a bystander is not an exit of its own (rule 62), and the
  // crashed transient child is restarted, not gone (rule 61).
  await using rt = createTestRuntime();
  const sup = await startSup(
    t,
    rt,
    supervisor({ strategy: 'one_for_all', autoShutdown: 'all_significant', maxRestarts: 10, children: [trans('a', true), trans('b', true)] }),
  );
  const a = await livePid(rt, sup, 'a');
  const b = await livePid(rt, sup, 'b');
  await endChild(rt, a, 'died');
  t.true(rt.isAlive(sup));
  t.false(rt.isAlive(b), 'b was terminated as a bystander');
  t.deepEqual(await countChildren(rt, sup), { specs: 2, active: 2, supervisors: 0, workers: 2 });
});

// ---------------------------------------------------------------------------------------------
// 90 significant_escalation

test('significant_escalation: a worker significant in B, B significant in A → the worker, B and A all exit (shutdown)', async (t) => {
  await using rt = createTestRuntime();
  const b = supervisor({ autoShutdown: 'any_significant', children: [temp('worker', true)] });
  const a = await startSup(
    t,
    rt,
    supervisor({
      autoShutdown: 'any_significant',
      children: [
        { id: 'sibling', start: worker },
        { id: 'b', start: b, restart: 'transient', significant: true },
      ],
    }),
  );
  const bPid = await livePid(rt, a, 'b');
  const sibling = await livePid(rt, a, 'sibling');
  const w = await livePid(rt, bPid, 'worker');
  t.is((await whichChildren(rt, a)).find((r) => r.id === 'b')?.type, 'supervisor', 'type defaults to supervisor');
  await endChild(rt, w, 'normal');
  await rt.flush();
  const exits = new Map(rt.trace.exits().map((e) => [String(e.pid), e.reason]));
  t.is(exits.get(String(w)), 'normal');
  t.is(exits.get(String(bPid)), 'shutdown', 'B auto-shut down');
  t.is(exits.get(String(a)), 'shutdown', 'A auto-shut down because its significant child B exited cleanly');
  t.is(exits.get(String(sibling)), 'shutdown');
  t.deepEqual(rt.processes(), []);
});

test('significant_escalation: B not significant in A → only B (and its worker) exit; A stays up with B stopped', async (t) => {
  await using rt = createTestRuntime();
  const b = supervisor({ autoShutdown: 'any_significant', children: [temp('worker', true)] });
  const a = await startSup(
    t,
    rt,
    supervisor({
      autoShutdown: 'any_significant',
      children: [
        { id: 'sibling', start: worker },
        { id: 'b', start: b, restart: 'transient', significant: false },
      ],
    }),
  );
  const bPid = await livePid(rt, a, 'b');
  const sibling = await livePid(rt, a, 'sibling');
  await endChild(rt, await livePid(rt, bPid, 'worker'), 'normal');
  t.false(rt.isAlive(bPid));
  t.is(rt.trace.exits().find((e) => String(e.pid) === String(bPid))?.reason, 'shutdown');
  t.true(rt.isAlive(a), 'A is not shut down');
  t.true(rt.isAlive(sibling));
  t.is(await pidOfChild(rt, a, 'b'), undefined, 'B (transient, exited with shutdown) is not restarted');
});

test('significant_escalation (rule 42): an auto-shut-down child supervisor that is permanent in its parent is restarted like any child exiting with shutdown', async (t) => {
  await using rt = createTestRuntime();
  const b = supervisor({ autoShutdown: 'any_significant', children: [temp('worker', true)] });
  const a = await startSup(t, rt, supervisor({ children: [{ id: 'b', start: b }] }));
  const b1 = await livePid(rt, a, 'b');
  await endChild(rt, await livePid(rt, b1, 'worker'), 'normal');
  t.true(rt.isAlive(a));
  const b2 = await livePid(rt, a, 'b');
  t.not(String(b2), String(b1), 'B restarted with a new pid');
  t.true(rt.isAlive(await livePid(rt, b2, 'worker')), 'with its worker');
});

// ---------------------------------------------------------------------------------------------
// §5.3 probe lines

test('CHECK significant_any: a transient significant child exits abnormally → alive (restarted); then exits normally → the supervisor exits with shutdown and its sibling got shutdown', async (t) => {
  await using rt = createTestRuntime();
  const log: string[] = [];
  const sup = await startSup(
    t,
    rt,
    supervisor({
      autoShutdown: 'any_significant',
      children: [
        { id: 'other', start: worker, input: { id: 'other', trap: true, log } },
        trans('sig', true, log),
      ],
    }),
  );
  await endChild(rt, await livePid(rt, sup, 'sig'), 'boom');
  t.true(rt.isAlive(sup), 'after abnormal: alive');
  t.true((await countChildren(rt, sup)).active === 2, 'restarted');
  await endChild(rt, await livePid(rt, sup, 'sig'), 'normal');
  await assertShutDown(t, rt, sup, [], 'after normal');
  t.deepEqual(log.filter((l) => l.startsWith('terminate:other')), ['terminate:other:shutdown'], 'sibling got shutdown [other]');
});

test('CHECK significant_validation: significant with auto_shutdown never, or with a permanent child, is bad_combination', async (t) => {
  const never = t.throws(() => supervisor({ children: [{ id: 'c', start: worker, restart: 'temporary', significant: true }] }), {
    instanceOf: ChildSpecError,
  });
  t.is(never?.problem, 'bad_combination');
  const permanent = t.throws(
    () => supervisor({ autoShutdown: 'any_significant', children: [{ id: 'c', start: worker, restart: 'permanent', significant: true }] }),
    { instanceOf: ChildSpecError },
  );
  t.is(permanent?.problem, 'bad_combination');
  // Default restart is permanent.
  t.is(
    t.throws(() => supervisor({ autoShutdown: 'all_significant', children: [{ id: 'c', start: worker, significant: true }] }), {
      instanceOf: ChildSpecError,
    })?.problem,
    'bad_combination',
  );

  // The same through start_child, where OTP answers {error, {bad_combination, ...}}.
  await using rt = createTestRuntime();
  const plain = await startSup(t, rt, supervisor({}));
  const r1 = await startChild(rt, plain, { id: 'c', start: worker, restart: 'temporary', significant: true });
  t.like(r1, { ok: false, error: 'invalid_child_spec', problem: 'bad_combination' });
  const auto = await startSup(t, rt, supervisor({ autoShutdown: 'any_significant' }));
  const r2 = await startChild(rt, auto, { id: 'c', start: worker, restart: 'permanent', significant: true });
  t.like(r2, { ok: false, error: 'invalid_child_spec', problem: 'bad_combination' });
  t.deepEqual(await whichChildren(rt, auto), [], 'nothing was added');
  // A valid significant child can be added, and exiting it triggers the auto-shutdown.
  const r3 = await startChild(rt, auto, temp('c', true));
  if (!r3.ok || r3.pid === undefined) return t.fail('start_child of a valid significant child failed');
  await endChild(rt, r3.pid, 'normal');
  await assertShutDown(t, rt, auto, [], 'significant child added by start_child');
  t.true(rt.isAlive(plain));
});

test('CHECK significant_all: two temporary significant children: after the 1st exit alive; after the 2nd the supervisor exits with shutdown', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(t, rt, supervisor({ autoShutdown: 'all_significant', children: [temp('s1', true), temp('s2', true)] }));
  await endChild(rt, await livePid(rt, sup, 's1'), 'normal');
  t.true(rt.isAlive(sup), 'after 1st exit: alive');
  await endChild(rt, await livePid(rt, sup, 's2'), 'normal');
  await assertShutDown(t, rt, sup, [], 'after 2nd exit');
});

// ---------------------------------------------------------------------------------------------
// More of rules 59–63

test('rule 59/60: invalid auto_shutdown and invalid significant values are refused with OTP reasons', (t) => {
  t.is(t.throws(() => supervisor({ autoShutdown: 'sometimes' as AutoShutdown }), { instanceOf: SupervisorFlagsError })?.problem, 'invalid_auto_shutdown');
  t.is(
    t.throws(
      () => supervisor({ autoShutdown: 'any_significant', children: [{ id: 'c', start: worker, restart: 'temporary', significant: 'maybe' as unknown as boolean }] }),
      { instanceOf: ChildSpecError },
    )?.problem,
    'invalid_significant',
  );
  t.notThrows(() => supervisor({ autoShutdown: 'never', children: [{ id: 'c', start: worker, significant: false }] }));
});

test('rule 61: a significant child whose start returns ignore never triggers auto-shutdown (only an exit does)', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(
    t,
    rt,
    supervisor({
      autoShutdown: 'any_significant',
      children: [
        { id: 'ignored', start: worker, input: { init: 'ignore' }, restart: 'transient', significant: true },
        { id: 'other', start: worker },
      ],
    }),
  );
  t.true(rt.isAlive(sup));
  t.is(await pidOfChild(rt, sup, 'ignored'), undefined);
  t.true((await restartChild(rt, sup, 'ignored')).ok, 'restart_child of the ignored child returns ok (ignored again)');
  await rt.flush();
  t.true(rt.isAlive(sup));
});

test('rule 61: a significant child that exits while the supervisor is still starting its other children triggers auto-shutdown once the start is done', async (t) => {
  await using rt = createTestRuntime();
  const gate = gatedStart();
  let quitterPid: Pid | undefined;
  const quitter = async (ctx: ChildStartContext) => {
    const pid = (await ctx.runtime.start(worker, { parent: ctx.supervisor, link: ctx.supervisor, id: ctx.id })) as Pid;
    quitterPid = pid;
    ctx.runtime.cast(pid, { exit: 'normal' }); // exits right after its start
    return pid;
  };
  const starting = rt.start(
    supervisor({
      autoShutdown: 'any_significant',
      children: [
        { id: 'quitter', start: quitter, restart: 'temporary', significant: true },
        { id: 'slow', start: gate.start },
      ],
    }),
  );
  await gate.control.waiting();
  await rt.flush(); // the quitter has exited; its EXIT waits until the start is done
  t.true(quitterPid !== undefined && !rt.isAlive(quitterPid), 'the significant child exited during the init');
  gate.control.settle('ok');
  const sup = await starting;
  t.not(sup, 'ignore', 'start_link still succeeds');
  if (sup === 'ignore') return;
  await assertShutDown(t, rt, sup, [], 'significant child exited during init');
});

test('rule 63 (all_significant): a significant child whose restart is failing and being retried still counts as left', async (t) => {
  // OTP's do_auto_shutdown(all_significant) looks for a significant child whose pid is not
  // `undefined`; a child being restarted has pid {restarting, Old}, so it counts as left.
  await using rt = createTestRuntime();
  const gate = gatedStart();
  const starting = rt.start(
    supervisor({
      autoShutdown: 'all_significant',
      maxRestarts: 100,
      children: [
        { id: 'flaky', start: gate.start, restart: 'transient', significant: true },
        trans('steady', true),
      ],
    }),
  );
  await gate.control.waiting();
  gate.control.settle('ok');
  const sup = await starting;
  if (sup === 'ignore') return t.fail();
  const steady = await livePid(rt, sup, 'steady');
  await endChild(rt, await livePid(rt, sup, 'flaky'), 'died');
  await gate.control.waiting();
  gate.control.settle({ error: 'boom' }); // the restart fails: flaky is now restarting
  await gate.control.waiting(); // its retry is under way
  await endChild(rt, steady, 'normal'); // the other significant child exits cleanly meanwhile
  gate.control.settle({ error: 'boom' }); // the retry fails too: flaky is still restarting
  await rt.flush();
  // Expected (OTP): alive, flaky still counts. Actual (xotp at the time of writing): the
  // supervisor shuts down here — SupervisorCore.onExit clears a child's pid when it exits, so a
  // restarting child has pid undefined, and #checkAutoShutdown('all_significant') only counts
  // significant children with a pid.
  t.true(rt.isAlive(sup), 'a restarting significant child counts as left: no auto-shutdown yet');
  if (!rt.isAlive(sup)) return;
  await gate.control.waiting();
  gate.control.settle('ok');
  await rt.flush();
  t.true(rt.isAlive(sup));
  const flaky = await livePid(rt, sup, 'flaky');
  t.is(await pidOfChild(rt, sup, 'steady'), undefined);
  await endChild(rt, flaky, 'normal');
  await assertShutDown(t, rt, sup, [], 'the last significant child exited');
});
