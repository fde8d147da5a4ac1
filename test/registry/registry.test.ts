/**
 * Registry scenarios common to both kinds (otp-semantics §3.2: `registry_test.exs`, the shared
 * parts of unique/duplicate_test.exs, and the `doctest Registry` examples), run with 1 and 8
 * partitions where Elixir does.
 *
 * Not ported: scenario 30 (`Registry.LockTest`): xotp's Registry has no `lock/3` (R23). Elixir's
 * `compressed:` option (R1) has no equivalent either.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  Registry,
  registry,
  supervisor,
  startChild,
  whichChildren,
  UnknownRegistryError,
  InvalidOptionError,
  AlreadyRegisteredError,
  StartError,
  NoProcessError,
  anything,
  Pid,
} from '../../src/index.js';
import { PARTITIONS, startRegistry, partitionsOf, proc, procs, tablesOf, agent, entries, pids } from '../helpers/registryHelpers.js';

for (const keys of ['unique', 'duplicate'] as const) {
  for (const partitions of PARTITIONS) {
    const tag = `[${keys}, ${partitions} partition${partitions > 1 ? 's' : ''}]`;

    test(`★ starts configured number of partitions ${tag}`, async (t) => {
      await using rt = createTestRuntime();
      const reg = await startRegistry(t, rt, { name: 'Reg', keys, partitions });
      const rows = await whichChildren(rt, reg);
      t.is(rows.length, partitions);
      t.true(rows.every((r) => r.type === 'worker' && r.pid instanceof Pid));
      t.true(rows.every((r) => rt.info(r.pid as Pid)!.trapExit), 'partitions trap exits');
      // R2: the registry is a supervisor (type supervisor when placed in a child spec).
      const app = await rt.start(supervisor({ children: [{ id: 'other', start: registry({ name: 'Other', keys, partitions }) }] }));
      const [row] = await whichChildren(rt, app as Pid);
      t.is(row?.type, 'supervisor');
      t.deepEqual(Registry.running(rt).sort(), ['Other', 'Reg']);
    });

    test(`★ clean up registry on process crash ${tag}`, async (t) => {
      await using rt = createTestRuntime();
      const reg = await startRegistry(t, rt, { name: 'Reg', keys, partitions });
      const [task1, task2] = procs(rt, 2) as [Pid, Pid];
      Registry.register(rt, 'Reg', 'hello', 'a', task1);
      Registry.register(rt, 'Reg', 'world', 'b', task1);
      Registry.register(rt, 'Reg', keys === 'unique' ? 'other' : 'hello', 'c', task2);
      t.is(Registry.count(rt, 'Reg'), 3);
      rt.exit(task1, 'kill');
      rt.exit(task2, 'kill');
      await rt.flush(); // Elixir: GenServer.call(partition, :sync) for every partition
      const tables = tablesOf(rt, 'Reg');
      t.is(Registry.count(rt, 'Reg'), 0, 'the key table is empty');
      t.is(tables.ownerCount(), 0, 'the pid table is empty');
      t.deepEqual(Registry.select(rt, 'Reg', {}), []);
      t.deepEqual(Registry.keys(rt, 'Reg', task1), []);
      for (const p of await partitionsOf(rt, reg)) t.deepEqual(rt.info(p)!.links.map(String), [String(reg)], 'partitions are linked to their supervisor only');
      t.is(rt.logs.at('error').length, 0, 'the partitions did not crash');
    });

    test(`R8: lookups, matches and via never return a dead process ${tag}`, async (t) => {
      await using rt = createTestRuntime();
      await startRegistry(t, rt, { name: 'Reg', keys, partitions });
      const task = proc(rt);
      Registry.register(rt, 'Reg', 'hello', 'a', task);
      rt.exit(task, 'kill');
      t.deepEqual(Registry.lookup(rt, 'Reg', 'hello'), [], 'no flush: already filtered');
      t.deepEqual(Registry.match(rt, 'Reg', 'hello', anything), []);
      let dispatched = false;
      Registry.dispatch(rt, 'Reg', 'hello', () => (dispatched = true));
      t.false(dispatched);
      if (keys === 'unique') t.is(rt.whereis({ via: 'Reg', key: 'hello' }), undefined);
    });
  }
}

test('★ raises on unknown registry name', async (t) => {
  await using rt = createTestRuntime();
  const self = proc(rt);
  const unknown = (f: () => unknown, what: string) => {
    const err = t.throws(f, { instanceOf: UnknownRegistryError }, what);
    t.is(err?.code, 'unknown_registry', what);
    t.regex(err?.message ?? '', /unknown registry/, what);
  };
  unknown(() => Registry.register(rt, 'unknown', 'hello', 'value', self), 'register');
  unknown(() => Registry.unregister(rt, 'unknown', 'hello', self), 'unregister');
  unknown(() => Registry.unregisterMatch(rt, 'unknown', 'hello', anything, self), 'unregisterMatch');
  unknown(() => Registry.lookup(rt, 'unknown', 'hello'), 'lookup');
  unknown(() => Registry.dispatch(rt, 'unknown', 'hello', () => undefined), 'dispatch');
  unknown(() => Registry.updateValue(rt, 'unknown', 'hello', self, (x) => x), 'updateValue');
  unknown(() => Registry.keys(rt, 'unknown', self), 'keys');
  unknown(() => Registry.values(rt, 'unknown', 'hello', self), 'values');
  unknown(() => Registry.count(rt, 'unknown'), 'count');
  unknown(() => Registry.match(rt, 'unknown', 'hello', anything), 'match');
  unknown(() => Registry.countMatch(rt, 'unknown', 'hello', anything), 'countMatch');
  unknown(() => Registry.select(rt, 'unknown', {}), 'select');
  unknown(() => Registry.countSelect(rt, 'unknown', {}), 'countSelect');
  unknown(() => Registry.meta(rt, 'unknown', 'k'), 'meta');
  unknown(() => Registry.putMeta(rt, 'unknown', 'k', 1), 'putMeta');
  unknown(() => Registry.deleteMeta(rt, 'unknown', 'k'), 'deleteMeta');
  unknown(() => rt.spawn(agent, { name: { via: 'unknown', key: 'hello' }, input: 0 }), 'via spawn');
  t.deepEqual(Registry.running(rt), []);
});

test('rejects invalid tuple syntax (and the other invalid options of start_link)', (t) => {
  const bad = (options: unknown, key: string) => {
    const err = t.throws(() => registry(options as never), { instanceOf: InvalidOptionError }, key);
    t.is(err?.key, key);
  };
  bad({ name: 'Reg', keys: 'duplicate:invalid' }, 'registry.keys');
  bad({ name: 'Reg', keys: ['duplicate', 'invalid'] }, 'registry.keys');
  bad({ name: 'Reg' }, 'registry.keys');
  bad({ keys: 'unique' }, 'registry.name');
  bad({ name: 'has space', keys: 'unique' }, 'registry.name');
  bad({ name: 42, keys: 'unique' }, 'registry.name');
  bad({ name: 'Reg', keys: 'unique', partitions: 0 }, 'registry.partitions');
  bad({ name: 'Reg', keys: 'unique', partitions: 1.5 }, 'registry.partitions');
  bad({ name: 'Reg', keys: 'unique', listeners: 'listener' }, 'registry.listeners');
  bad({ name: 'Reg', keys: 'unique', listeners: [42] }, 'registry.listeners');
  bad({ name: 'Reg', keys: 'unique', meta: [['k', 1]] }, 'registry.meta');
  bad({ name: 'Reg', keys: 'unique', compressed: true }, 'registry.compressed');
  t.throws(() => registry(undefined as never), { instanceOf: InvalidOptionError });
});

test('a second registry with a taken name does not start (xotp: start_failed naming the running registry)', async (t) => {
  // Elixir: Registry.start_link(name: Reg) while Reg runs → {:error, {:already_started, pid}}
  // (the name is the registry supervisor's registered name).
  await using rt = createTestRuntime();
  const first = await startRegistry(t, rt, { name: 'Reg', keys: 'unique' });
  const self = proc(rt);
  Registry.register(rt, 'Reg', 'hello', 1, self);
  await t.throwsAsync(rt.start(registry({ name: 'Reg', keys: 'duplicate' })), { instanceOf: StartError });
  await rt.flush();
  t.deepEqual(entries(Registry.lookup(rt, 'Reg', 'hello')), [[String(self), 1]], 'the running registry is untouched');
  t.deepEqual(Registry.running(rt), ['Reg']);

  const app = await rt.start(supervisor({ children: [] }));
  const res = await startChild(rt, app as Pid, { id: 'reg2', start: registry({ name: 'Reg', keys: 'unique' }) });
  // Elixir gives { :error, {:already_started, pid} } because the registry's name is its
  // supervisor's registered name. An xotp registry is named in the runtime's name services, and
  // the clash is found by its first partition, so the child's start fails like any child's
  // init: start_failed, { shutdown: { failedToStartChild: 'partition-0', reason } }, where
  // reason is an AlreadyRegisteredError whose owner is the running registry's supervisor.
  t.is(res.ok, false);
  const failure = res as { ok: false; error: string; reason: { shutdown: { failedToStartChild: string; reason: AlreadyRegisteredError } } };
  t.is(failure.error, 'start_failed');
  t.is(failure.reason.shutdown.failedToStartChild, 'partition-0');
  t.true(failure.reason.shutdown.reason instanceof AlreadyRegisteredError);
  t.is(String(failure.reason.shutdown.reason.owner), String(first));
});

test('doctest: meta/2, put_meta/3 and delete_meta/2', async (t) => {
  await using rt = createTestRuntime();
  await startRegistry(t, rt, { name: 'Registry.MetaTest', keys: 'unique', meta: { custom_key: 'custom_value' } });
  t.deepEqual(Registry.meta(rt, 'Registry.MetaTest', 'custom_key'), { ok: true, value: 'custom_value' });
  t.is(Registry.meta(rt, 'Registry.MetaTest', 'unknown_key'), 'error');
  t.is(Registry.putMeta(rt, 'Registry.MetaTest', 'custom_key', 'new_value'), undefined, ':ok');
  t.deepEqual(Registry.meta(rt, 'Registry.MetaTest', 'custom_key'), { ok: true, value: 'new_value' });
  // put_meta with a tuple key: tuple keys are strings here (meta keys are typed `string`).
  Registry.putMeta(rt, 'Registry.MetaTest', 'tuple:key', { some: 'value' });
  t.deepEqual(Registry.meta(rt, 'Registry.MetaTest', 'tuple:key'), { ok: true, value: { some: 'value' } });
  t.is(Registry.deleteMeta(rt, 'Registry.MetaTest', 'custom_key'), undefined, ':ok');
  t.is(Registry.meta(rt, 'Registry.MetaTest', 'custom_key'), 'error');
  t.notThrows(() => Registry.deleteMeta(rt, 'Registry.MetaTest', 'custom_key'), 'deleting twice is fine');
});

test('doctest: count, lookup from another process, values from another process', async (t) => {
  await using rt = createTestRuntime();
  await startRegistry(t, rt, { name: 'Registry.DocTest', keys: 'unique' });
  const [self, other] = procs(rt, 2) as [Pid, Pid];
  t.is(Registry.count(rt, 'Registry.DocTest'), 0);
  Registry.register(rt, 'Registry.DocTest', 'hello', 'world', self);
  t.is(Registry.count(rt, 'Registry.DocTest'), 1);
  // lookup from another Task sees the same entry: reads do not depend on who reads.
  const seen = await rt.start(agent, { input: Registry.lookup(rt, 'Registry.DocTest', 'hello') });
  t.deepEqual(entries((await rt.call(seen as Pid, 'get')) as Array<{ pid: Pid; value: unknown }>), [[String(self), 'world']]);
  t.deepEqual(Registry.values(rt, 'Registry.DocTest', 'hello', self), ['world']);
  t.deepEqual(Registry.values(rt, 'Registry.DocTest', 'hello', other), [], 'values of another pid: []');
  t.deepEqual(Registry.keys(rt, 'Registry.DocTest', other), []);
});

test('registering a dead process fails with NoProcessError and leaves nothing', async (t) => {
  await using rt = createTestRuntime();
  await startRegistry(t, rt, { name: 'Reg', keys: 'duplicate', partitions: 8 });
  const task = proc(rt);
  await rt.stop(task);
  t.throws(() => Registry.register(rt, 'Reg', 'hello', 1, task), { instanceOf: NoProcessError });
  t.is(Registry.count(rt, 'Reg'), 0);
  t.is(tablesOf(rt, 'Reg').ownerCount(), 0);
});

test('the registry strategy: a unique registry restarts all partitions (one_for_all), a duplicate one only the dead one (one_for_one)', async (t) => {
  await using rt = createTestRuntime();
  const uniq = await startRegistry(t, rt, { name: 'U', keys: 'unique', partitions: 8 });
  const dup = await startRegistry(t, rt, { name: 'D', keys: 'duplicate', partitions: 8 });
  const u1 = await partitionsOf(rt, uniq);
  const d1 = await partitionsOf(rt, dup);
  rt.exit(u1[3]!, 'kill');
  rt.exit(d1[3]!, 'kill');
  await rt.flush();
  const u2 = await partitionsOf(rt, uniq);
  const d2 = await partitionsOf(rt, dup);
  t.true(u2.every((p, i) => String(p) !== String(u1[i])), 'unique: every partition is new');
  t.deepEqual(
    d2.map((p, i) => String(p) === String(d1[i])),
    [true, true, true, false, true, true, true, true],
    'duplicate: only partition 3 is new',
  );
  t.deepEqual(Registry.running(rt).sort(), ['D', 'U']);
});

test('AlreadyRegisteredError of a unique register names the key and carries the holder', async (t) => {
  await using rt = createTestRuntime();
  await startRegistry(t, rt, { name: 'Reg', keys: 'unique', partitions: 8 });
  const [a, b] = procs(rt, 2) as [Pid, Pid];
  Registry.register(rt, 'Reg', ['topic', 1], 'x', a);
  const err = t.throws(() => Registry.register(rt, 'Reg', ['topic', 1], 'y', b), { instanceOf: AlreadyRegisteredError });
  t.deepEqual(err?.registeredName, ['topic', 1]);
  t.is(String(err?.owner), String(a));
  t.deepEqual(pids(Registry.lookup(rt, 'Reg', ['topic', 1])), [String(a)]);
});

test('★ via in a supervisor child spec: the child is registered under { via } at every start, and a taken via name is already_started', async (t) => {
  await using rt = createTestRuntime();
  await startRegistry(t, rt, { name: 'Services', keys: 'unique' });
  const app = (await rt.start(
    supervisor({ children: [{ id: 'db', start: agent, name: { via: 'Services', key: 'db', value: 'primary' } }] }),
  )) as Pid;
  const first = (await whichChildren(rt, app))[0]!.pid as Pid;
  t.deepEqual(entries(Registry.lookup(rt, 'Services', 'db')), [[String(first), 'primary']]);
  t.is(rt.info(first)?.id.endsWith('/db'), true);

  rt.exit(first, 'kill');
  await rt.flush();
  const second = (await whichChildren(rt, app))[0]!.pid as Pid;
  t.not(second.id, first.id);
  t.deepEqual(entries(Registry.lookup(rt, 'Services', 'db')), [[String(second), 'primary']], 're-registered by the restart');

  const res = await startChild(rt, app, { id: 'db2', start: agent, name: { via: 'Services', key: 'db' } });
  t.deepEqual(res, { ok: false, error: 'already_started', pid: second });
});

// issue 13: a lookup allocated a new result array on every call (and asked the runtime's name
// table for the registry each time): 6× a Map.get. A unique key's lookup now returns the
// table's own (frozen) array while its holder lives.
test('regression: registry lookup allocates a result per call — a held key returns one shared frozen array', async (t) => {
  await using rt = createTestRuntime();
  await startRegistry(t, rt, { name: 'Reg', keys: 'unique', partitions: 1 });
  const holder = proc(rt);
  Registry.register(rt, 'Reg', 'db', 7, holder);
  const first = Registry.lookup(rt, 'Reg', 'db');
  const second = Registry.lookup(rt, 'Reg', 'db');
  t.is(first, second, 'the same array, not a copy per call');
  t.true(Object.isFrozen(first), 'frozen: every caller shares it');
  t.deepEqual(first.map((e) => [String(e.pid), e.value]), [[String(holder), 7]]);
  t.is(Registry.lookup(rt, 'Reg', 'nobody'), Registry.lookup(rt, 'Reg', 'other'), 'an unheld key: one shared empty array');
  t.is(Registry.lookup(rt, 'Reg', 'nobody').length, 0);
  // A change makes a new array; the one callers hold is left as it was.
  Registry.updateValue(rt, 'Reg', 'db', holder, (v: number) => v + 1);
  const third = Registry.lookup(rt, 'Reg', 'db');
  t.not(third, first);
  t.deepEqual(third.map((e) => e.value), [8]);
  t.deepEqual(first.map((e) => e.value), [7]);
});

test('a lookup made while the holder is dead but not yet cleaned up (a process.exited listener) returns nothing, even right after a lookup that found it', async (t) => {
  await using rt = createTestRuntime();
  await startRegistry(t, rt, { name: 'Reg', keys: 'unique', partitions: 1 });
  const holder = proc(rt);
  Registry.register(rt, 'Reg', 'db', 1, holder);
  t.is(Registry.lookup(rt, 'Reg', 'db').length, 1);
  const seen: number[] = [];
  rt.events.on('process.exited', (e) => {
    if (Pid.equals(e.pid, holder)) seen.push(Registry.lookup(rt, 'Reg', 'db').length, Registry.count(rt, 'Reg'));
  });
  rt.exit(holder, 'kill');
  await rt.flush();
  t.deepEqual(seen, [0, 1], 'no entry returned, while the table still holds it');
  t.is(Registry.count(rt, 'Reg'), 0);
  const next = proc(rt);
  Registry.register(rt, 'Reg', 'db', 2, next);
  t.deepEqual(Registry.lookup(rt, 'Reg', 'db').map((e) => [String(e.pid), e.value]), [[String(next), 2]]);
});

test('lookups follow the registry that runs under a name now: not one that ended, nor one of another runtime', async (t) => {
  await using rt = createTestRuntime();
  await using other = createTestRuntime();
  const reg = await startRegistry(t, rt, { name: 'Reg', keys: 'unique', partitions: 2 });
  await startRegistry(t, other, { name: 'Reg', keys: 'unique', partitions: 1 });
  const a = proc(rt);
  const b = proc(other);
  Registry.register(rt, 'Reg', 'k', 'here', a);
  Registry.register(other, 'Reg', 'k', 'there', b);
  for (let i = 0; i < 2; i++) {
    t.deepEqual(Registry.lookup(rt, 'Reg', 'k').map((e) => e.value), ['here']);
    t.deepEqual(Registry.lookup(other, 'Reg', 'k').map((e) => e.value), ['there']);
  }
  await rt.stop(reg);
  t.throws(() => Registry.lookup(rt, 'Reg', 'k'), { instanceOf: UnknownRegistryError });
  await startRegistry(t, rt, { name: 'Reg', keys: 'unique', partitions: 1 });
  t.is(Registry.lookup(rt, 'Reg', 'k').length, 0, 'the restarted registry starts empty');
  Registry.register(rt, 'Reg', 'k', 'again', proc(rt)); // a was linked to the old partitions: it went with them
  t.deepEqual(Registry.lookup(rt, 'Reg', 'k').map((e) => e.value), ['again']);
});
