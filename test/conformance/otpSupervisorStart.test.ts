/**
 * OTP supervisor_SUITE, groups sup_start and sup_start_map (otp-semantics §2.1 scenarios 1–15;
 * rules 14–22, 51, 58), ported to xotp's supervisor() / dynamicSupervisor().
 *
 * `supervisor:start_link` is `rt.start(supervisor(...))`; `init/1` is the options function; the
 * test process that traps exits is an `observer` linked to the supervisor.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  AlreadyRegisteredError,
  ChildSpecError,
  InvalidOptionError,
  StartError,
  SupervisorFlagsError,
  dynamicSupervisor,
  getChildSpec,
  restartChild,
  startChild,
  supervisor,
  terminateChild,
  whichChildren,
  type Pid,
  type SupervisorOptions,
} from '../../src/index.js';
import { worker } from '../helpers/otpWorkers.js';
import { scriptedStart } from '../helpers/otpWorkers.js';
import { assertExited, counts, observer, rows, startSup, workerSpec } from '../helpers/otpSupervisorHelpers.js';

test('sup_start_normal: {one_for_one,2,3600} with no children starts, then stops cleanly with shutdown', async (t) => {
  await using rt = createTestRuntime();
  const sup = await rt.start(supervisor({ strategy: 'one_for_one', maxRestarts: 2, maxSeconds: 3600 }), { name: 'sup_test' });
  t.not(sup, 'ignore');
  const pid = sup as Pid;
  t.true(rt.isAlive(pid));
  t.deepEqual(await whichChildren(rt, 'sup_test'), []);
  rt.exit(pid, 'shutdown'); // from its parent (the runtime root), as OTP's test process does
  await rt.flush();
  assertExited(t, rt, pid, 'shutdown');
  t.is(rt.whereis('sup_test'), undefined);
  t.deepEqual(rt.logs.at('error'), [], 'a clean stop logs no error');
});

test('sup_start_ignore_init: init returns ignore → start resolves ignore, the supervisor ends normal, the linked caller gets no EXIT (OTP ≥ 26)', async (t) => {
  await using rt = createTestRuntime();
  const obs = observer(rt);
  const result = await rt.start(supervisor(() => 'ignore'), { link: obs.pid, name: 'sup_test' });
  t.is(result, 'ignore');
  await rt.flush();
  const exit = rt.trace.exits().find((e) => e.id.endsWith('sup_test'));
  t.is(exit?.reason, 'normal');
  t.is(rt.whereis('sup_test'), undefined);
  // OTP 25 would deliver {'EXIT', Pid, normal}; the 2025 suite asserts check_no_exit(100).
  t.deepEqual(obs.inbox.filter((m) => m.type === 'xotp.exit'), []);
  t.true(rt.isAlive(obs.pid));
});

test('sup_start_ignore_child: a permanent child whose start returns ignore → {ok, undefined}; the spec is kept; which_children [child2, child1(undefined)], counts [2,1,0,2]', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  const r1 = await startChild(rt, sup, workerSpec('child1', {}, { init: 'ignore' }));
  t.deepEqual(r1, { ok: true, pid: undefined, ignored: true });
  const r2 = await startChild(rt, sup, workerSpec('child2'));
  t.true(r2.ok && r2.pid !== undefined);
  const cpid2 = (r2 as { pid: Pid }).pid;
  t.deepEqual(await rows(rt, sup), [
    ['child2', String(cpid2)],
    ['child1', undefined],
  ]);
  t.deepEqual(await counts(rt, sup), [2, 1, 0, 2]);
});

test('sup_start_ignore_temporary_child: a temporary child in the init list that returns ignore is not kept; counts [1,1,0,1]', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(
    rt,
    supervisor({
      maxRestarts: 2,
      maxSeconds: 3600,
      children: [
        workerSpec('child1', { restart: 'temporary' }, { init: 'ignore' }),
        workerSpec('child2', { restart: 'temporary' }),
      ],
    }),
  );
  const which = await whichChildren(rt, sup);
  t.is(which.length, 1);
  t.is(which[0]!.id, 'child2');
  t.true(typeof which[0]!.pid === 'object' && rt.isAlive(which[0]!.pid));
  t.deepEqual(await counts(rt, sup), [1, 1, 0, 1]);
});

test('sup_start_ignore_temporary_child_start_child: start_child of a temporary child that returns ignore → {ok, undefined}, the spec is not kept', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600 }));
  t.deepEqual(await startChild(rt, sup, workerSpec('child1', { restart: 'temporary' }, { init: 'ignore' })), {
    ok: true,
    pid: undefined,
    ignored: true,
  });
  const r2 = await startChild(rt, sup, workerSpec('child2', { restart: 'temporary' }));
  t.true(r2.ok);
  t.deepEqual(await rows(rt, sup), [['child2', String((r2 as { pid: Pid }).pid)]]);
  t.deepEqual(await counts(rt, sup), [1, 1, 0, 1]);
});

test('sup_start_ignore_temporary_child_start_child_simple: dynamic start_child whose start returns ignore → ignored, no child added', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, dynamicSupervisor({ maxRestarts: 2, maxSeconds: 3600 }));
  const r1 = await startChild(rt, sup, { start: worker, input: { init: 'ignore' }, restart: 'temporary', shutdown: 1000 });
  t.deepEqual(r1, { ok: true, pid: undefined, ignored: true });
  const r2 = await startChild(rt, sup, { start: worker, restart: 'temporary', shutdown: 1000 });
  t.true(r2.ok);
  t.deepEqual(await rows(rt, sup), [[undefined, String((r2 as { pid: Pid }).pid)]]);
  // DynamicSupervisor counts its children as specs (simple_one_for_one would say specs=1).
  t.deepEqual(await counts(rt, sup), [1, 1, 0, 1]);
});

test('sup_start_ignore_permanent_child_start_child_simple: the same for a permanent child; the supervisor later exits shutdown without error', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, dynamicSupervisor({ maxRestarts: 2, maxSeconds: 3600 }));
  t.deepEqual(await startChild(rt, sup, { start: worker, input: { init: 'ignore' }, shutdown: 1000 }), {
    ok: true,
    pid: undefined,
    ignored: true,
  });
  const r2 = await startChild(rt, sup, { start: worker, shutdown: 1000 });
  const cpid2 = (r2 as { pid: Pid }).pid;
  t.deepEqual(await rows(rt, sup), [[undefined, String(cpid2)]]);
  t.deepEqual(await counts(rt, sup), [1, 1, 0, 1]);
  rt.exit(sup, 'shutdown');
  await rt.flush();
  assertExited(t, rt, sup, 'shutdown');
  assertExited(t, rt, cpid2, 'shutdown');
  t.deepEqual(rt.trace.of('supervisor.shutdownError'), []);
  t.deepEqual(rt.logs.at('error'), []);
});

test('sup_start_error_return: init returns an invalid value → the start fails (xotp: SupervisorFlagsError invalid_type, OTP bad_return); no EXIT to the caller', async (t) => {
  await using rt = createTestRuntime();
  const obs = observer(rt);
  const err = await t.throwsAsync(
    rt.start(supervisor(() => 'invalid' as unknown as SupervisorOptions), { link: obs.pid }),
    { instanceOf: StartError },
  );
  t.true(err?.reason instanceof SupervisorFlagsError);
  t.is((err?.reason as SupervisorFlagsError).problem, 'invalid_type');
  await rt.flush();
  t.deepEqual(obs.inbox.filter((m) => m.type === 'xotp.exit'), []);
});

test('sup_start_fail: init raises → the start fails with the raised reason; no EXIT to the caller', async (t) => {
  await using rt = createTestRuntime();
  const obs = observer(rt);
  const boom = new Error('fail');
  const err = await t.throwsAsync(
    rt.start(
      supervisor(() => {
        throw boom;
      }),
      { link: obs.pid },
    ),
    { instanceOf: StartError },
  );
  t.is(err?.reason, boom);
  await rt.flush();
  t.deepEqual(obs.inbox.filter((m) => m.type === 'xotp.exit'), []);
});

test('sup_start_child_returns_error: a start that fails → {error, {Reason, Spec}} (start_failed with the reason), the spec is discarded: which_children []', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600 }));
  const r1 = await startChild(rt, sup, { id: 'child1', start: scriptedStart([{ error: 'reason' }]).start, shutdown: 1000 });
  t.deepEqual(r1, { ok: false, error: 'start_failed', reason: 'reason' });
  // A worker whose init stops: OTP's {stop, error_reason}.
  const r2 = await startChild(rt, sup, workerSpec('child2', {}, { init: { stop: 'error_reason' } }));
  t.deepEqual(r2, { ok: false, error: 'start_failed', reason: 'error_reason' });
  t.deepEqual(await whichChildren(rt, sup), []);
  t.deepEqual(await counts(rt, sup), [0, 0, 0, 0]);
});

test('sup_start_restart_child_returns_error: terminate_child then restart_child whose start crashes → {error, Reason}; the child stays undefined', async (t) => {
  await using rt = createTestRuntime();
  const { start } = scriptedStart(['ok', { error: 'function_clause' }]);
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600, children: [{ id: 'child1', start, shutdown: 1000 }] }));
  t.deepEqual(await terminateChild(rt, sup, 'child1'), { ok: true });
  t.deepEqual(await restartChild(rt, sup, 'child1'), { ok: false, error: 'start_failed', reason: 'function_clause' });
  t.deepEqual(await rows(rt, sup), [['child1', undefined]]);
  t.true(rt.isAlive(sup));
});

test('sup_start_child_returns_error_simple: dynamic start_child whose start fails → {error, Reason} with no spec; no child', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, dynamicSupervisor({ maxRestarts: 2, maxSeconds: 3600 }));
  t.deepEqual(await startChild(rt, sup, { start: scriptedStart([{ error: 'reason' }]).start }), {
    ok: false,
    error: 'start_failed',
    reason: 'reason',
  });
  t.deepEqual(await startChild(rt, sup, { start: worker, input: { init: { stop: 'error_reason' } } }), {
    ok: false,
    error: 'start_failed',
    reason: 'error_reason',
  });
  t.deepEqual(await whichChildren(rt, sup), []);
});

test('sup_start_map: specs take the defaults (permanent, 5000 for workers / infinity for supervisors, worker); get_childspec gives the full spec; an unknown id → not_found', async (t) => {
  await using rt = createTestRuntime();
  const child1 = { id: 'child1', start: worker };
  const child2 = { id: 'child2', start: worker, shutdown: 'brutal_kill' as const };
  const child3 = { id: 'child3', start: worker, type: 'supervisor' as const };
  const child4 = { id: 'child4', start: supervisor({}) }; // type inferred from the logic
  const sup = await startSup(rt, supervisor({ children: [child1, child2, child3, child4] }));
  const spec = async (id: string) => {
    const r = await getChildSpec(rt, sup, id);
    return r.ok ? r.spec : r;
  };
  t.deepEqual(await spec('child1'), {
    id: 'child1',
    start: worker,
    input: undefined,
    name: undefined,
    restart: 'permanent',
    shutdown: 5000,
    type: 'worker',
    significant: false,
  });
  t.like(await spec('child2'), { restart: 'permanent', shutdown: 'brutal_kill', type: 'worker' });
  t.like(await spec('child3'), { restart: 'permanent', shutdown: 'infinity', type: 'supervisor' });
  t.like(await spec('child4'), { restart: 'permanent', shutdown: 'infinity', type: 'supervisor' });
  t.deepEqual(await getChildSpec(rt, sup, 'child5'), { ok: false, error: 'not_found' });
});

test('sup_start_map_simple: get_childspec(Sup, ChildPid) on a dynamic supervisor gives the child spec (significant false); a pid that is not a child → not_found', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, dynamicSupervisor({}));
  const pids: Pid[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await startChild(rt, sup, { start: worker, restart: 'temporary' });
    pids.push((r as { pid: Pid }).pid);
  }
  for (const pid of pids) {
    const r = await getChildSpec(rt, sup, pid);
    t.true(r.ok);
    if (r.ok) t.like(r.spec, { start: worker, restart: 'temporary', type: 'worker', shutdown: 5000, significant: false });
  }
  const { pid: stranger } = observer(rt);
  t.deepEqual(await getChildSpec(rt, sup, stranger), { ok: false, error: 'not_found' });
});

test('sup_start_map_faulty_specs: missing id → missing_id, missing start → missing_start, a non-object spec → invalid_child_spec; an unknown key is refused (xotp difference: OTP ignores it)', async (t) => {
  await using rt = createTestRuntime();
  const problem = (options: SupervisorOptions) => {
    const err = t.throws(() => supervisor(options), { instanceOf: ChildSpecError });
    t.true(err instanceof InvalidOptionError);
    return err?.problem;
  };
  t.is(problem({ children: [{ start: worker } as never] }), 'missing_id');
  t.is(problem({ children: [{ id: 'child2' } as never] }), 'missing_start');
  t.is(problem({ children: ['child4' as never] }), 'invalid_child_spec');
  // OTP: {ok, Pid} = start_link(... [#{id=>child3, start=>..., silly_flag=>true}]).
  // xotp refuses unknown keys so that a misspelt option cannot fall back to a default.
  t.is(problem({ children: [{ id: 'child3', start: worker, silly_flag: true } as never] }), 'unknown_key');

  // The same specs from an init function: the start fails with the ChildSpecError as its reason
  // (OTP: {error, {start_spec, missing_id}}).
  const err = await t.throwsAsync(rt.start(supervisor(() => ({ children: [{ start: worker } as never] }))), { instanceOf: StartError });
  t.true(err?.reason instanceof ChildSpecError);
  t.is((err?.reason as ChildSpecError).problem, 'missing_id');
});

test('sup_start: a child that fails during init → the children already started are terminated in reverse order (shutdown), later ones are never started, and the supervisor exits {shutdown, {failed_to_start_child, Id, Reason}} (rule 17)', async (t) => {
  await using rt = createTestRuntime();
  const log: string[] = [];
  const children = [
    workerSpec('a', {}, { log, trap: true }),
    workerSpec('b', {}, { log, trap: true }),
    { id: 'c', start: scriptedStart([{ error: 'boom' }]).start },
    workerSpec('d', {}, { log }),
  ];
  const err = await t.throwsAsync(rt.start(supervisor({ children })), { instanceOf: StartError });
  const reason = { shutdown: { failedToStartChild: 'c', reason: 'boom' } };
  t.deepEqual(err?.reason, reason);
  t.deepEqual(log, ['start:a', 'start:b', 'terminate:b:shutdown', 'terminate:a:shutdown']);
  const supExit = rt.trace.exits().at(-1);
  t.deepEqual(supExit?.reason, reason, 'the supervisor process ends with the same reason');
  t.deepEqual(rt.processes(), []);
});

test('faulty_application_shutdown (nested): a child supervisor that fails to start its own child → start_child of it fails with the nested failed_to_start_child reason', async (t) => {
  await using rt = createTestRuntime();
  const top = await startSup(rt, supervisor({}));
  // Each start of app_faulty fails (a fresh script per supervisor logic).
  const faultySup = () => supervisor({ children: [{ id: 'app_faulty', start: scriptedStart([{ error: 'undef' }]).start }] });
  t.deepEqual(await startChild(rt, top, { id: 'app_sup', start: faultySup() }), {
    ok: false,
    error: 'start_failed',
    reason: { shutdown: { failedToStartChild: 'app_faulty', reason: 'undef' } },
  });
  t.deepEqual(await whichChildren(rt, top), []);
  // And one level up, at init: the error wraps again.
  const err = await t.throwsAsync(rt.start(supervisor({ children: [{ id: 'app_sup', start: faultySup() }] })), { instanceOf: StartError });
  t.deepEqual(err?.reason, {
    shutdown: { failedToStartChild: 'app_sup', reason: { shutdown: { failedToStartChild: 'app_faulty', reason: 'undef' } } },
  });
});

test('start_link with a name that is taken → already_started with the owner (rule 19); nothing else is started', async (t) => {
  await using rt = createTestRuntime();
  const first = await startSup(rt, supervisor({}), 'sup_test');
  const log: string[] = [];
  const err = await t.throwsAsync(rt.start(supervisor({ children: [workerSpec('c', {}, { log })] }), { name: 'sup_test' }), {
    instanceOf: AlreadyRegisteredError,
  });
  t.deepEqual(err?.owner, first);
  t.deepEqual(log, [], 'no child was started');
  t.deepEqual(rt.processes(), [first]);
});
