/**
 * Elixir's `registry/duplicate_test.exs` (otp-semantics §3.2) ported to xotp, run with 1 and 8
 * partitions as Elixir does. Elixir's `{:duplicate, :key}` layout and `dispatch(..., parallel:
 * true)` have no xotp equivalent (xotp has one duplicate layout and dispatches serially, once
 * per partition holding entries); the serial dispatch scenario is ported.
 *
 * Mapping: see unique.test.ts.
 */
import test, { type ExecutionContext } from 'ava';
import { createTestRuntime, type TestRuntime } from '../../src/testing/index.js';
import { Registry, RegistryKindError, anything, Pid } from '../../src/index.js';
import { PARTITIONS, startRegistry, partitionsOf, proc, procs, agent, listener, entries, pids } from '../helpers/registryHelpers.js';

for (const partitions of PARTITIONS) {
  const tag = `[duplicate, ${partitions} partition${partitions > 1 ? 's' : ''}]`;
  const setup = async (t: ExecutionContext, rt: TestRuntime, extra: { listeners?: string[] } = {}) =>
    startRegistry(t, rt, { name: 'Dup', keys: 'duplicate', partitions, ...extra });

  test(`counts 0 keys in an empty registry ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    t.is(Registry.count(rt, 'Dup'), 0);
  });

  test(`counts the number of keys in a registry ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const self = proc(rt);
    Registry.register(rt, 'Dup', 'hello', 'value', self);
    Registry.register(rt, 'Dup', 'hello', 'value', self);
    t.is(Registry.count(rt, 'Dup'), 2, 'every entry counts');
  });

  test(`has duplicate registrations ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const self = proc(rt);
    t.true(Registry.register(rt, 'Dup', 'hello', 'value', self) instanceof Pid);
    t.true(Registry.register(rt, 'Dup', 'hello', 'value', self) instanceof Pid, 'the same key again: no error');
    t.deepEqual(Registry.keys(rt, 'Dup', self), ['hello', 'hello']);
    t.deepEqual(Registry.values(rt, 'Dup', 'hello', self), ['value', 'value']);
    Registry.register(rt, 'Dup', 'world', 'value', self);
    t.deepEqual((Registry.keys(rt, 'Dup', self) as string[]).sort(), ['hello', 'hello', 'world']);
  });

  test(`has duplicate registrations across processes ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const [self, task] = procs(rt, 2) as [Pid, Pid];
    Registry.register(rt, 'Dup', 'hello', 'task', task);
    Registry.register(rt, 'Dup', 'hello', 'self', self);
    t.deepEqual(entries(Registry.lookup(rt, 'Dup', 'hello')), entries([{ pid: task, value: 'task' }, { pid: self, value: 'self' }]));
    t.deepEqual(Registry.keys(rt, 'Dup', task), ['hello']);
    t.deepEqual(Registry.values(rt, 'Dup', 'hello', task), ['task']);
  });

  test(`supports match patterns and guard conditions ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const self = proc(rt);
    Registry.register(rt, 'Dup', 'hello', [1, 'atom', 1], self);
    Registry.register(rt, 'Dup', 'hello', [2, 'atom', 2], self);
    t.deepEqual(entries(Registry.match(rt, 'Dup', 'hello', [1, anything, anything])), [[String(self), [1, 'atom', 1]]]);
    t.deepEqual(entries(Registry.match(rt, 'Dup', 'hello', [anything, 'atom', anything])).length, 2);
    t.deepEqual(entries(Registry.match<number[]>(rt, 'Dup', 'hello', [anything, anything, anything], (v) => v[0]! > 1)), [[String(self), [2, 'atom', 2]]]);
    t.deepEqual(Registry.match(rt, 'Dup', 'hello', [3, anything, anything]), []);
    t.deepEqual(Registry.match(rt, 'Dup', anything, anything), [], 'a key `anything` is literal');
    Registry.register(rt, 'Dup', 'world', { a: 'a', b: 'b' }, self);
    t.is(Registry.match(rt, 'Dup', 'world', { b: 'b' }).length, 1, 'map subset pattern');
    t.is(Registry.countMatch(rt, 'Dup', 'hello', [anything, 'atom', anything]), 2, 'count_match');
    t.is(Registry.countMatch(rt, 'Dup', 'hello', anything, (v) => (v as number[])[2] === 2), 1, 'count_match with a guard');
  });

  test(`unregister_match supports patterns and guards ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    const inbox = listener(rt, 'dup_listener');
    await setup(t, rt, { listeners: ['dup_listener'] });
    const [self, task] = procs(rt, 2) as [Pid, Pid];
    Registry.register(rt, 'Dup', 'hello', 'a', self);
    Registry.register(rt, 'Dup', 'hello', 'b', self);
    Registry.register(rt, 'Dup', 'hello', 'a', task);
    Registry.unregisterMatch(rt, 'Dup', 'hello', 'a', self);
    t.deepEqual(Registry.values(rt, 'Dup', 'hello', self), ['b'], 'only the matching entry is removed');
    t.deepEqual(Registry.values(rt, 'Dup', 'hello', task), ['a'], "another process's entries are kept");
    await rt.flush();
    t.is(inbox.filter((e) => e.type === 'xotp.registry.unregister').length, 0, 'no unregister event while entries are left');
    Registry.unregisterMatch(rt, 'Dup', 'hello', anything, self, (v) => v === 'c');
    t.deepEqual(Registry.values(rt, 'Dup', 'hello', self), ['b'], 'the guard does not hold');
    Registry.unregisterMatch(rt, 'Dup', 'hello', anything, self, (v) => v === 'b');
    t.deepEqual(Registry.values(rt, 'Dup', 'hello', self), []);
    await rt.flush();
    t.deepEqual(
      inbox.filter((e) => e.type === 'xotp.registry.unregister').map((e) => [e.key, String(e.pid)]),
      [['hello', String(self)]],
      'listeners are told once all of the key\'s entries are gone',
    );
    t.deepEqual(rt.info(self)!.links, [], 'no keys left: unlinked');
  });

  test(`compares using matches ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const self = proc(rt);
    Registry.register(rt, 'Dup', 1, 'number', self);
    Registry.register(rt, 'Dup', '1', 'string', self);
    t.deepEqual(entries(Registry.lookup(rt, 'Dup', 1)), [[String(self), 'number']]);
    t.deepEqual(entries(Registry.lookup(rt, 'Dup', '1')), [[String(self), 'string']]);
    t.is(Registry.count(rt, 'Dup'), 2);
  });

  test(`dispatches to a single key ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const self = proc(rt);
    let invoked = 0;
    Registry.dispatch(rt, 'Dup', 'hello', () => invoked++);
    t.is(invoked, 0, 'not invoked without entries');
    Registry.register(rt, 'Dup', 'hello', 'value', self);
    const got: unknown[] = [];
    Registry.dispatch(rt, 'Dup', 'hello', (list) => got.push(entries(list)));
    t.deepEqual(got, [[[String(self), 'value']]]);
  });

  test(`dispatches to multiple keys in serial ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const subs = procs(rt, 12);
    for (const [i, p] of subs.entries()) Registry.register(rt, 'Dup', 'hello', i, p);
    const other = proc(rt);
    Registry.register(rt, 'Dup', 'world', 'other', other);
    const calls: Array<Array<{ pid: Pid; value: number }>> = [];
    Registry.dispatch<number>(rt, 'Dup', 'hello', (list) => calls.push(list));
    t.true(calls.every((c) => c.length > 0), 'every call gets a non-empty list');
    // Once per partition holding entries: each call's processes share one partition (the one
    // they are linked to), and there are as many calls as such partitions.
    const partitionOf = (p: Pid) => String(rt.info(p)!.links[0]);
    t.is(calls.length, new Set(subs.map(partitionOf)).size, 'once per partition holding entries');
    t.true(calls.every((c) => new Set(c.map((e) => partitionOf(e.pid))).size === 1), 'one partition per call');
    if (partitions === 1) t.is(calls.length, 1);
    t.deepEqual(pids(calls.flat()), pids(subs), "exactly the key's entries, each once");
    t.false(pids(calls.flat()).includes(String(other)), 'not the other key');
    t.deepEqual(calls.flat().map((e) => e.value).sort((a, b) => a - b), subs.map((_, i) => i));
    t.is(rt.trace.exits().length, 0, 'no EXIT leaks');
  });

  test(`★ unregisters by key ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const [self, task] = procs(rt, 2) as [Pid, Pid];
    Registry.register(rt, 'Dup', 'hello', 'value', self);
    Registry.register(rt, 'Dup', 'hello', 'value', self);
    Registry.register(rt, 'Dup', 'world', 'value', self);
    Registry.register(rt, 'Dup', 'hello', 'value', task);
    t.deepEqual((Registry.keys(rt, 'Dup', self) as string[]).sort(), ['hello', 'hello', 'world']);
    t.is(Registry.unregister(rt, 'Dup', 'hello', self), undefined, ':ok');
    t.deepEqual(Registry.keys(rt, 'Dup', self), ['world'], "all of the caller's entries under the key are gone");
    t.deepEqual(entries(Registry.lookup(rt, 'Dup', 'hello')), [[String(task), 'value']], "the other process's entry stays");
    Registry.unregister(rt, 'Dup', 'world', self);
    t.deepEqual(Registry.keys(rt, 'Dup', self), []);
    t.is(Registry.count(rt, 'Dup'), 1);
  });

  test(`★ unregisters with no entries ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const self = proc(rt);
    t.notThrows(() => Registry.unregister(rt, 'Dup', 'hello', self));
    t.is(Registry.count(rt, 'Dup'), 0);
  });

  test(`★ allows listeners ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    const inbox = listener(rt, 'dup_listener');
    await setup(t, rt, { listeners: ['dup_listener'] });
    const [self, task] = procs(rt, 2) as [Pid, Pid];
    Registry.register(rt, 'Dup', 'hello', 'world', task);
    Registry.register(rt, 'Dup', 'world', 'value', self);
    Registry.unregister(rt, 'Dup', 'world', self);
    await rt.flush();
    t.deepEqual(
      inbox.map((e) => ({ ...e, pid: String(e.pid) })),
      [
        { type: 'xotp.registry.register', registry: 'Dup', key: 'hello', pid: String(task), value: 'world' },
        { type: 'xotp.registry.register', registry: 'Dup', key: 'world', pid: String(self), value: 'value' },
        { type: 'xotp.registry.unregister', registry: 'Dup', key: 'world', pid: String(self) },
      ],
    );
  });

  test(`★ links and unlinks on register/unregister ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    const reg = await setup(t, rt);
    const self = proc(rt);
    const links = () => rt.info(self)!.links.map(String);
    const owner = Registry.register(rt, 'Dup', 'hello', 'a', self)!;
    t.true(pids(await partitionsOf(rt, reg)).includes(String(owner)));
    t.deepEqual(links(), [String(owner)]);
    Registry.register(rt, 'Dup', 'hello', 'b', self);
    Registry.register(rt, 'Dup', 'world', 'c', self);
    t.deepEqual(links(), [String(owner)], 'one link');
    Registry.unregister(rt, 'Dup', 'hello', self);
    t.deepEqual(links(), [String(owner)], 'still linked: "world" is left');
    Registry.unregister(rt, 'Dup', 'world', self);
    t.deepEqual(links(), [], 'unlinked after the last key');
  });

  test(`★ raises if attempt to be used on via ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const before = rt.stats().alive;
    const err = t.throws(() => rt.spawn(agent, { name: { via: 'Dup', key: 'hello' }, input: 0 }), { instanceOf: RegistryKindError });
    t.is(err?.code, 'registry_kind');
    t.regex(err?.message ?? '', /not supported for duplicate registries/);
    t.is(rt.stats().alive, before, 'no process was left behind');
    t.is(Registry.count(rt, 'Dup'), 0);
    await t.throwsAsync(rt.start(agent, { name: { via: 'Dup', key: 'hello' }, input: 0 }), { instanceOf: RegistryKindError });
    t.throws(() => rt.whereis({ via: 'Dup', key: 'hello' }), { instanceOf: RegistryKindError }, 'whereis_name');
    const res = rt.resolve({ via: 'Dup', key: 'hello' });
    t.true(!res.ok && res.error instanceof RegistryKindError, 'resolve gives it as a value');
    await t.throwsAsync(rt.call({ via: 'Dup', key: 'hello' }, 'get'), { instanceOf: RegistryKindError });
  });

  test(`uses exact complex keys in lookup and match ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const self = proc(rt);
    Registry.register(rt, 'Dup', [anything, 'topic'], 'tuple', self);
    Registry.register(rt, 'Dup', { b: 'b' }, 'map', self);
    Registry.register(rt, 'Dup', { b: 'b', c: 'c' }, 'bigger map', self);
    Registry.register(rt, 'Dup', ['a', 'topic'], 'other tuple', self);
    t.deepEqual(entries(Registry.lookup(rt, 'Dup', [anything, 'topic'])), [[String(self), 'tuple']], 'not a pattern over tuples');
    t.deepEqual(entries(Registry.lookup(rt, 'Dup', { b: 'b' })), [[String(self), 'map']], 'not a subset pattern over maps');
    t.deepEqual(entries(Registry.match(rt, 'Dup', [anything, 'topic'], anything)), [[String(self), 'tuple']]);
    t.deepEqual(entries(Registry.match(rt, 'Dup', { b: 'b' }, anything)), [[String(self), 'map']]);
    t.deepEqual(entries(Registry.lookup(rt, 'Dup', { c: 'c', b: 'b' })), [[String(self), 'bigger map']], 'key order does not matter');
  });

  test(`update_value is not supported ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const self = proc(rt);
    Registry.register(rt, 'Dup', 'hello', 1, self);
    let called = false;
    const err = t.throws(() => Registry.updateValue<number>(rt, 'Dup', 'hello', self, (n) => ((called = true), n + 1)), { instanceOf: RegistryKindError });
    t.regex(err?.message ?? '', /updateValue is not supported/);
    t.false(called);
    t.deepEqual(Registry.values(rt, 'Dup', 'hello', self), [1]);
  });

  test(`select all ${tag}`, async (t) => {
    await using rt = createTestRuntime();
    await setup(t, rt);
    const [self, task] = procs(rt, 2) as [Pid, Pid];
    t.deepEqual(Registry.select(rt, 'Dup', {}), [], 'empty list for empty registry');
    Registry.register(rt, 'Dup', 'hello', 'a', task);
    Registry.register(rt, 'Dup', 'hello', 'b', self);
    Registry.register(rt, 'Dup', 'world', 'c', self);
    const rows = Registry.select(rt, 'Dup', {}).map((e) => `${String(e.key)}|${String(e.pid)}|${String(e.value)}`).sort();
    t.deepEqual(rows, [`hello|${task}|a`, `hello|${self}|b`, `world|${self}|c`].sort());
    t.is(Registry.countSelect(rt, 'Dup', { key: 'hello' }), 2);
    t.is(Registry.countSelect(rt, 'Dup', { pid: self, where: (e) => e.value !== 'c' }), 1);
  });
}
