/**
 * OTP supervisor_SUITE, the ungrouped API tests (otp-semantics §2.1 scenarios 25–30, 81, 82;
 * rules 20–22, 51–58): child_adm, child_adm_simple, extra_return, child_specs, child_specs_map,
 * sup_flags, already_started_outside_supervisor, which_children.
 *
 * Results are xotp's typed objects: `{ ok: true, pid }`, `{ ok: false, error: 'running' }`, ...
 * A call to a supervisor that does not exist rejects with NoProcessError (OTP: the caller exits
 * with `{noproc, {gen_server, call, ...}}`).
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  ChildSpecError,
  InvalidOptionError,
  NoProcessError,
  StartError,
  SupervisorFlagsError,
  countChildren,
  deleteChild,
  dynamicSupervisor,
  restartChild,
  startChild,
  supervisor,
  terminateChild,
  whichChildren,
  type ChildSpec,
  type Pid,
  type RestartType,
  type Shutdown,
  type ChildType,
  type SupervisorOptions,
} from '../../src/index.js';
import { idle } from '../helpers/actors.js';
import { worker } from '../helpers/otpWorkers.js';
import {
  assertExited,
  counts,
  livePid,
  rows,
  startSup,
  startWithInfo,
  terminate,
  workerSpec,
} from '../helpers/otpSupervisorHelpers.js';

test('★ child_adm: the static child-management API matrix (already_started, not_found, noproc, terminate/restart/delete, already_present, running, a pid on a static supervisor)', async (t) => {
  await using rt = createTestRuntime();
  const child = workerSpec('child1', { shutdown: 1000 });
  const sup = await startSup(rt, supervisor({ strategy: 'one_for_one', maxRestarts: 1, maxSeconds: 1000, children: [child] }), 'sup_test');
  const cpid = await livePid(rt, 'sup_test', 'child1');
  t.deepEqual(await rows(rt, 'sup_test'), [['child1', String(cpid)]]);
  t.deepEqual(await counts(rt, 'sup_test'), [1, 1, 0, 1]);

  // Start of an already running child.
  t.deepEqual(await startChild(rt, 'sup_test', child), { ok: false, error: 'already_started', pid: cpid });

  // Termination.
  t.deepEqual(await terminateChild(rt, 'sup_test', 'hej'), { ok: false, error: 'not_found' });
  await t.throwsAsync(terminateChild(rt, 'foo', 'child1'), { instanceOf: NoProcessError });
  t.deepEqual(await terminateChild(rt, 'sup_test', 'child1'), { ok: true });
  assertExited(t, rt, cpid, 'shutdown');
  t.deepEqual(await rows(rt, 'sup_test'), [['child1', undefined]]);
  t.deepEqual(await counts(rt, 'sup_test'), [1, 0, 0, 1]);
  t.deepEqual(await terminateChild(rt, 'sup_test', 'child1'), { ok: true }, 'terminating a stopped child succeeds');

  // Start of an existing but not running child.
  t.deepEqual(await startChild(rt, 'sup_test', child), { ok: false, error: 'already_present' });

  // Restart.
  const r = await restartChild(rt, 'sup_test', 'child1');
  t.true(r.ok && r.pid !== undefined && r.pid.id !== cpid.id);
  const cpid2 = (r as { pid: Pid }).pid;
  t.deepEqual(await rows(rt, 'sup_test'), [['child1', String(cpid2)]]);
  t.deepEqual(await counts(rt, 'sup_test'), [1, 1, 0, 1]);
  t.deepEqual(await restartChild(rt, 'sup_test', 'child1'), { ok: false, error: 'running' });
  t.deepEqual(await restartChild(rt, 'sup_test', 'child2'), { ok: false, error: 'not_found' });

  // Deletion.
  t.deepEqual(await deleteChild(rt, 'sup_test', 'child1'), { ok: false, error: 'running' });
  t.deepEqual(await deleteChild(rt, 'sup_test', 'hej'), { ok: false, error: 'not_found' });
  await t.throwsAsync(deleteChild(rt, 'foo', 'child1'), { instanceOf: NoProcessError });
  t.deepEqual(await terminateChild(rt, 'sup_test', 'child1'), { ok: true });
  t.deepEqual(await deleteChild(rt, 'sup_test', 'child1'), { ok: true });
  t.deepEqual(await restartChild(rt, 'sup_test', 'child1'), { ok: false, error: 'not_found' });
  t.deepEqual(await whichChildren(rt, 'sup_test'), []);
  t.deepEqual(await counts(rt, 'sup_test'), [0, 0, 0, 0]);

  // Start.
  await t.throwsAsync(startChild(rt, 'foo', child), { instanceOf: NoProcessError });
  const s = await startChild(rt, 'sup_test', child);
  t.true(s.ok && s.pid !== undefined);
  const cpid3 = (s as { pid: Pid }).pid;
  t.deepEqual(await rows(rt, 'sup_test'), [['child1', String(cpid3)]]);
  t.deepEqual(await counts(rt, 'sup_test'), [1, 1, 0, 1]);

  // Terminate with a pid is not allowed on a static supervisor.
  t.deepEqual(await terminateChild(rt, 'sup_test', cpid3), { ok: false, error: 'not_found' });
  t.true(rt.isAlive(cpid3));
  t.deepEqual(await rows(rt, 'sup_test'), [['child1', String(cpid3)]]);
  t.deepEqual(await counts(rt, 'sup_test'), [1, 1, 0, 1]);

  await t.throwsAsync(whichChildren(rt, 'foo'), { instanceOf: NoProcessError });
  await t.throwsAsync(countChildren(rt, 'foo'), { instanceOf: NoProcessError });
  // None of this counted as a restart (intensity 1 would have been exceeded otherwise).
  t.true(rt.isAlive(sup));
  t.deepEqual(rt.trace.of('supervisor.intensityReached'), []);
});

test('child_adm_simple: the dynamic supervisor API: ids are undefined; terminate by pid (by id → not_found, xotp/DynamicSupervisor); a non-child pid → not_found and it stays alive; restart/delete refused', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, dynamicSupervisor({ maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  t.deepEqual(await whichChildren(rt, 'sup_test'), []);
  // DynamicSupervisor semantics: specs counts children (simple_one_for_one: [1,0,0,0]).
  t.deepEqual(await counts(rt, 'sup_test'), [0, 0, 0, 0]);

  await t.throwsAsync(startChild(rt, 'foo', { start: worker }), { instanceOf: NoProcessError });
  const c1 = ((await startChild(rt, 'sup_test', { start: worker, shutdown: 1000 })) as { pid: Pid }).pid;
  t.deepEqual(await rows(rt, 'sup_test'), [[undefined, String(c1)]]);
  t.deepEqual(await counts(rt, 'sup_test'), [1, 1, 0, 1]);
  const c2 = ((await startChild(rt, 'sup_test', { start: worker, shutdown: 1000 })) as { pid: Pid }).pid;
  const children = await rows(rt, 'sup_test');
  t.is(children.length, 2);
  t.true(children.some(([id, p]) => id === undefined && p === String(c1)));
  t.true(children.some(([id, p]) => id === undefined && p === String(c2)));
  t.deepEqual(await counts(rt, 'sup_test'), [2, 2, 0, 2]);

  // Termination. OTP's simple_one_for_one answers {error, simple_one_for_one} for an id.
  t.deepEqual(await terminateChild(rt, 'sup_test', 'child1'), { ok: false, error: 'not_found' });
  t.deepEqual(await counts(rt, 'sup_test'), [2, 2, 0, 2]);
  t.deepEqual(await terminateChild(rt, 'sup_test', c1), { ok: true });
  t.is((await whichChildren(rt, 'sup_test')).length, 1);
  t.deepEqual(await counts(rt, 'sup_test'), [1, 1, 0, 1]);
  t.false(rt.isAlive(c1));
  // DynamicSupervisor (rule 70): a pid that is no longer a child is not_found (OTP's
  // simple_one_for_one says ok for a dead pid).
  t.deepEqual(await terminateChild(rt, 'sup_test', c1), { ok: false, error: 'not_found' });
  t.deepEqual(await counts(rt, 'sup_test'), [1, 1, 0, 1]);
  // A live pid that is not a child: not_found, and it is not touched.
  const noChild = rt.spawn(idle);
  t.deepEqual(await terminateChild(rt, 'sup_test', noChild), { ok: false, error: 'not_found' });
  t.true(rt.isAlive(noChild));

  // restart_child / delete_child are not for dynamic supervisors (OTP: {error, simple_one_for_one}).
  t.deepEqual(await restartChild(rt, 'sup_test', 'child1'), { ok: false, error: 'dynamic' });
  t.deepEqual(await deleteChild(rt, 'sup_test', 'child1'), { ok: false, error: 'dynamic' });
  t.true(rt.isAlive(sup));
});

test('extra_return: a start returning {ok, Pid, Info} → start_child and restart_child return the info; the automatic restart works', async (t) => {
  await using rt = createTestRuntime();
  const child: ChildSpec = { id: 'child1', start: startWithInfo('extra_return'), shutdown: 1000 };
  await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600, children: [child] }), 'sup_test');
  const cpid = await livePid(rt, 'sup_test', 'child1');
  t.deepEqual(await terminateChild(rt, 'sup_test', 'hej'), { ok: false, error: 'not_found' });
  t.deepEqual(await deleteChild(rt, 'sup_test', 'hej'), { ok: false, error: 'not_found' });
  t.deepEqual(await restartChild(rt, 'sup_test', 'hej'), { ok: false, error: 'not_found' });
  t.deepEqual(await deleteChild(rt, 'sup_test', 'child1'), { ok: false, error: 'running' });
  t.deepEqual(await restartChild(rt, 'sup_test', 'child1'), { ok: false, error: 'running' });
  t.deepEqual(await counts(rt, 'sup_test'), [1, 1, 0, 1]);

  t.deepEqual(await terminateChild(rt, 'sup_test', 'child1'), { ok: true });
  assertExited(t, rt, cpid, 'shutdown');
  t.deepEqual(await rows(rt, 'sup_test'), [['child1', undefined]]);
  t.deepEqual(await counts(rt, 'sup_test'), [1, 0, 0, 1]);

  const r = await restartChild(rt, 'sup_test', 'child1');
  t.like(r, { ok: true, info: 'extra_return' });
  const cpid2 = (r as { pid: Pid }).pid;
  t.deepEqual(await rows(rt, 'sup_test'), [['child1', String(cpid2)]]);

  t.deepEqual(await terminateChild(rt, 'sup_test', 'child1'), { ok: true });
  t.deepEqual(await terminateChild(rt, 'sup_test', 'child1'), { ok: true });
  t.deepEqual(await deleteChild(rt, 'sup_test', 'child1'), { ok: true });
  t.deepEqual(await restartChild(rt, 'sup_test', 'child1'), { ok: false, error: 'not_found' });
  t.deepEqual(await counts(rt, 'sup_test'), [0, 0, 0, 0]);

  const s = await startChild(rt, 'sup_test', child);
  t.like(s, { ok: true, info: 'extra_return' });
  const cpid3 = (s as { pid: Pid }).pid;
  t.deepEqual(await counts(rt, 'sup_test'), [1, 1, 0, 1]);

  // It can be restarted automatically.
  await terminate(rt, cpid3, 'abnormal');
  const cpid4 = await livePid(rt, 'sup_test', 'child1');
  t.not(cpid4.id, cpid3.id);
  t.deepEqual(await counts(rt, 'sup_test'), [1, 1, 0, 1]);
});

test('child_specs: invalid specs are refused with OTP\'s reason, by start_child (invalid_child_spec result) and by supervisor() (ChildSpecError); duplicate ids → duplicate_child_name', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ maxRestarts: 2, maxSeconds: 3600 }), 'sup_test');
  const refused = async (spec: unknown) => {
    const r = await startChild(rt, 'sup_test', spec as ChildSpec);
    t.false(r.ok);
    return r.ok ? undefined : r.error === 'invalid_child_spec' ? r.problem : r.error;
  };
  t.is(await refused('hej'), 'invalid_child_spec');
  t.is(await refused({ id: 'child', start: 'mfa' }), 'invalid_start'); // OTP {invalid_mfa, mfa}
  t.is(await refused({ id: 'child', start: worker, restart: 'prmanent' }), 'invalid_restart_type');
  t.is(await refused({ id: 'child', start: worker, shutdown: -10 }), 'invalid_shutdown');
  t.is(await refused({ id: 'child', start: worker, type: 'wrker' }), 'invalid_child_type');
  t.deepEqual(await whichChildren(rt, 'sup_test'), [], 'nothing was added');

  // Every valid combination is accepted (check_childspecs); building the logic starts nothing.
  const restarts: RestartType[] = ['permanent', 'transient', 'temporary'];
  const shutdowns: Shutdown[] = [0, 1000, 'infinity', 'brutal_kill'];
  const types: ChildType[] = ['supervisor', 'worker'];
  let id = 0;
  const all: ChildSpec[] = [];
  for (const restart of restarts) for (const shutdown of shutdowns) for (const type of types) all.push({ id: `c${++id}`, start: worker, restart, shutdown, type });
  t.notThrows(() => supervisor({ children: all }));

  // Duplicate ids in the init list.
  const dup = t.throws(
    () => supervisor({ children: [{ id: 'child', start: worker, shutdown: 'infinity', type: 'supervisor' }, { id: 'child', start: worker, shutdown: 1000, type: 'supervisor' }] }),
    { instanceOf: ChildSpecError },
  );
  t.is(dup?.problem, 'duplicate_child_name');

  // Faulty specs at supervisor start.
  t.is(t.throws(() => supervisor({ children: [{ id: 'child', start: 'mfa' as never }] }), { instanceOf: ChildSpecError })?.problem, 'invalid_start');
  t.is(
    t.throws(() => supervisor({ children: [{ id: 'child', start: worker, restart: 'prmanent' as never }] }), { instanceOf: ChildSpecError })?.problem,
    'invalid_restart_type',
  );
  // simple_one_for_one's template list has no equivalent: dynamicSupervisor() takes no children.
  t.throws(() => dynamicSupervisor({ children: [] } as never), { instanceOf: InvalidOptionError });
  t.true(rt.isAlive(sup));
});

test('child_specs_map: map-spec validation: missing_id, missing_start, invalid_significant; significant needs auto_shutdown and a non-permanent child (bad_combination)', async (t) => {
  await using rt = createTestRuntime();
  await startSup(rt, supervisor({}), 'sup_test');
  const problem = async (spec: unknown) => {
    const r = await startChild(rt, 'sup_test', spec as ChildSpec);
    return !r.ok && r.error === 'invalid_child_spec' ? r.problem : r;
  };
  t.is(await problem({}), 'missing_id');
  t.is(await problem({ id: 'child' }), 'missing_start');
  t.is(await problem({ start: worker }), 'missing_id');
  t.is(await problem({ id: 'child', start: worker, significant: 'maybe' }), 'invalid_significant');

  const check = (autoShutdown: SupervisorOptions['autoShutdown'], spec: Partial<ChildSpec>) => {
    try {
      supervisor({ ...(autoShutdown ? { autoShutdown } : {}), children: [{ id: 'child', start: worker, ...spec }] });
      return 'ok';
    } catch (err) {
      return err instanceof ChildSpecError ? err.problem : String(err);
    }
  };
  for (const auto of [undefined, 'never', 'any_significant', 'all_significant'] as const) {
    for (const restart of [undefined, 'permanent', 'transient', 'temporary'] as const) {
      for (const significant of [undefined, true, false]) {
        const spec: Partial<ChildSpec> = { ...(restart ? { restart } : {}), ...(significant !== undefined ? { significant } : {}) };
        const expected =
          significant !== true ? 'ok' : auto === undefined || auto === 'never' ? 'bad_combination' : restart === undefined || restart === 'permanent' ? 'bad_combination' : 'ok';
        t.is(check(auto, spec), expected, `autoShutdown=${auto} restart=${restart} significant=${significant}`);
      }
    }
  }
  t.is(check(undefined, { significant: true, restart: 'temporary' }), 'bad_combination');
});

test('sup_flags: invalid strategy / intensity (infinity, negative) / period (0, infinity) / auto_shutdown / a non-object → SupervisorFlagsError with OTP\'s reason; unknown flags are refused (xotp difference: OTP ignores them)', async (t) => {
  await using rt = createTestRuntime();
  const problem = (options: unknown) => t.throws(() => supervisor(options as SupervisorOptions), { instanceOf: SupervisorFlagsError })?.problem;
  t.is(problem({ strategy: 'none_for_one' }), 'invalid_strategy');
  t.is(problem({ strategy: 'simple_one_for_one' }), 'invalid_strategy', 'simple_one_for_one is dynamicSupervisor()');
  t.is(problem({ maxRestarts: Infinity }), 'invalid_intensity');
  t.is(problem({ maxRestarts: -1 }), 'invalid_intensity');
  t.is(problem({ maxSeconds: 0 }), 'invalid_period');
  t.is(problem({ maxSeconds: Infinity }), 'invalid_period');
  t.is(problem({ autoShutdown: 'sometimes' }), 'invalid_auto_shutdown');
  t.is(problem(['one_for_one', 2]), 'invalid_type');
  t.true(t.throws(() => supervisor({ strategy: 'none_for_one' } as never)) instanceof InvalidOptionError);

  // From an init function the start fails with the same error as its reason.
  const err = await t.throwsAsync(rt.start(supervisor(() => ({ maxSeconds: 0 }))), { instanceOf: StartError });
  t.is((err?.reason as SupervisorFlagsError).problem, 'invalid_period');

  // OTP: {ok, Pid} = start_link({ok, {#{silly_flag => true}, []}}). xotp refuses unknown options.
  // Refused as the README's differences say: a SupervisorFlagsError with problem unknown_key.
  const unknown = t.throws(() => supervisor({ silly_flag: true } as never), { instanceOf: SupervisorFlagsError });
  t.is(unknown?.problem, 'unknown_key');
  t.is(unknown?.key, 'supervisor.silly_flag');
  t.regex(unknown?.message ?? '', /silly_flag/);
});

test('which_children: rows are newest first and a restarted child keeps its place (start order)', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ children: [workerSpec('a'), workerSpec('b'), workerSpec('c')] }));
  await startChild(rt, sup, workerSpec('d'));
  t.deepEqual((await whichChildren(rt, sup)).map((c) => c.id), ['d', 'c', 'b', 'a']);
  t.deepEqual(await terminateChild(rt, sup, 'b'), { ok: true });
  t.like(await restartChild(rt, sup, 'b'), { ok: true });
  t.deepEqual((await whichChildren(rt, sup)).map((c) => c.id), ['d', 'c', 'b', 'a']);
  t.deepEqual(
    (await whichChildren(rt, sup)).map((c) => c.type),
    ['worker', 'worker', 'worker', 'worker'],
  );
});

test('already_started_outside_supervisor: the child\'s name is taken by an outside process → {error, {already_started, P}} without the spec; at init the supervisor fails to start', async (t) => {
  await using rt = createTestRuntime();
  const outsider = rt.spawn(idle, { name: 'taken' });
  const sup = await startSup(rt, supervisor({}));
  t.deepEqual(await startChild(rt, sup, workerSpec('child', { name: 'taken' })), { ok: false, error: 'already_started', pid: outsider });
  t.deepEqual(await whichChildren(rt, sup), [], 'the spec is not kept');
  t.true(rt.isAlive(outsider));

  const err = await t.throwsAsync(rt.start(supervisor({ children: [workerSpec('child', { name: 'taken' })] })), { instanceOf: StartError });
  t.deepEqual(err?.reason, { shutdown: { failedToStartChild: 'child', reason: { alreadyStarted: outsider } } });
  t.true(rt.isAlive(outsider));
});
