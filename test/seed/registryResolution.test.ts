/**
 * Seed errors 21 and 29–35 (seed-phase3-error-report.md, "Registry/Service Discovery"): every
 * test that reached `DSPex.Adapters.PythonPort.detect_via_registry/0` died with
 * `** (ArgumentError) unknown registry: DSPex.Registry`, because the registry was not started in
 * that environment, and nothing said which registries were running. And seed errors 1, 5, 12,
 * 19, 22, 33 ("Test Environment"): adapter detection silently fell back to another adapter
 * (`assert Registry.get_adapter() == PythonPort`, got `PythonPoolV2`).
 *
 * The rules for xotp: a registry that is not running is an UnknownRegistryError naming it and
 * listing the running ones, saying whether it never started or is restarting; `rt.resolve` gives
 * it as a value; resolution goes local names → `nameRegistries` → fallback resolvers, and a
 * configured registry that is down fails resolution instead of falling through to a resolver
 * that would answer with a different service. A registry restarting under its supervisor comes
 * back empty (its tables die with it, as Elixir's ETS tables do with their owner).
 */
import test, { type ExecutionContext } from 'ava';
import { fromCallback } from 'xstate';
import { createTestRuntime, type TestRuntime } from '../../src/testing/index.js';
import {
  Registry,
  registry,
  supervisor,
  terminateChild,
  restartChild,
  whichChildren,
  UnknownRegistryError,
  NoProcessError,
  Pid,
  type FallbackResolver,
  type ExitMessage,
  type ResolveResult,
  type Runtime,
} from '../../src/index.js';
import { worker } from '../helpers/otpWorkers.js';
import { PARTITIONS, startRegistry, partitionsOf, tablesOf, agent, entries, pids } from '../helpers/registryHelpers.js';

/** A fallback resolver that answers `name` with `pid` and counts how often it was asked. */
function spyResolver(answers: Record<string, Pid>): FallbackResolver & { asked: string[] } {
  const asked: string[] = [];
  const f = ((name: string) => {
    asked.push(name);
    return answers[name];
  }) as FallbackResolver & { asked: string[] };
  f.asked = asked;
  return f;
}

/** An app supervisor whose first child is the registry `name` (like DSPex's application). */
async function startApp(t: ExecutionContext, rt: TestRuntime, name: string, keys: 'unique' | 'duplicate' = 'unique', partitions = 1): Promise<Pid> {
  const app = await rt.start(supervisor({ children: [{ id: 'registry', start: registry({ name, keys, partitions }) }] }));
  if (!(app instanceof Pid)) {
    t.fail('the app did not start');
    throw new Error('ignored');
  }
  return app;
}

function unknownRegistry(t: ExecutionContext, f: () => unknown, what: string): UnknownRegistryError | undefined {
  return t.throws(f, { instanceOf: UnknownRegistryError }, what);
}

test('seed error 21, 29–35: a lookup against a registry that was never started raises UnknownRegistryError naming it and listing the running ones', async (t) => {
  await using rt = createTestRuntime();
  await startRegistry(t, rt, { name: 'Services', keys: 'unique' });
  await startRegistry(t, rt, { name: 'PubSub', keys: 'duplicate' });
  const err = unknownRegistry(t, () => Registry.lookup(rt, 'DSPex.Registry', 'python_port'), 'Registry.lookup');
  t.is(err?.code, 'unknown_registry');
  t.is(err?.registry, 'DSPex.Registry');
  t.deepEqual([...(err?.running ?? [])].sort(), ['PubSub', 'Services']);
  t.regex(err?.message ?? '', /unknown registry 'DSPex\.Registry'/);
  t.regex(err?.message ?? '', /never started/);
  t.regex(err?.message ?? '', /'Services'/);
  t.regex(err?.message ?? '', /'PubSub'/);

  // With nothing running, the list says so.
  await using bare = createTestRuntime({ name: 'bare' });
  const none = unknownRegistry(t, () => Registry.register(bare, 'DSPex.Registry', 'python_port', undefined, bare.spawn(agent, { input: 0 })), 'register');
  t.deepEqual(none?.running, []);
  t.regex(none?.message ?? '', /running registries: none/);
});

test('seed error 21, 29–35: call, send, whereis and spawn through a via name on a registry never started fail with UnknownRegistryError; rt.resolve gives it as a value', async (t) => {
  await using rt = createTestRuntime();
  await startRegistry(t, rt, { name: 'Services', keys: 'unique' });
  const via = { via: 'DSPex.Registry', key: 'python_port' };
  const err = await t.throwsAsync(rt.call(via, 'get'), { instanceOf: UnknownRegistryError });
  t.deepEqual(err?.running, ['Services']);
  unknownRegistry(t, () => rt.send(via, { type: 'x' }), 'send');
  unknownRegistry(t, () => rt.cast(via, { set: 1 }), 'cast');
  unknownRegistry(t, () => rt.whereis(via), 'whereis');
  const alive = rt.stats().alive;
  unknownRegistry(t, () => rt.spawn(agent, { name: via, input: 0 }), 'spawn with the via name');
  t.is(rt.stats().alive, alive, 'the failed spawn left no process');
  await t.throwsAsync(rt.start(agent, { name: via, input: 0 }), { instanceOf: UnknownRegistryError });

  const res = rt.resolve(via);
  t.false(res.ok);
  if (!res.ok) {
    t.true(res.error instanceof UnknownRegistryError, 'resolve: the error as a value, not thrown');
    t.is((res.error as UnknownRegistryError).registry, 'DSPex.Registry');
  }
  t.false(rt.isAlive(via), 'isAlive never throws');
  t.is(await rt.stop(via), 'noproc', 'stop never throws for a target that is not there');
});

test('seed error 21, 29–35: a runtime whose nameRegistries names a registry that is not started fails plain-name resolution with UnknownRegistryError (local names still win)', async (t) => {
  const answers: Record<string, Pid> = {};
  const fallback = spyResolver(answers);
  await using rt = createTestRuntime({ nameRegistries: ['DSPex.Registry'], resolvers: [fallback] });
  // The fallback knows another service under the name the registry would have answered.
  answers.python_port = rt.spawn(agent, { input: 'PythonPoolV2' });
  const local = rt.spawn(agent, { name: 'local_service', input: 'local' });
  t.is(String(rt.whereis('local_service')), String(local), 'a local name resolves before any registry is asked');
  t.is(await rt.call('local_service', 'get'), 'local');

  const err = await t.throwsAsync(rt.call('python_port', 'get'), { instanceOf: UnknownRegistryError });
  t.is(err?.registry, 'DSPex.Registry');
  t.regex(err?.message ?? '', /never started/);
  const res = rt.resolve('python_port');
  t.true(!res.ok && res.error instanceof UnknownRegistryError);
  t.deepEqual(fallback.asked, [], 'the fallback resolver was never consulted');
});

test('seed error 21, 29–35: a lookup while the registry restarts under its supervisor: in the window the error says it is restarting; after it, the registry works and stale entries are gone', async (t) => {
  await using rt = createTestRuntime();
  const app = await startApp(t, rt, 'DSPex.Registry');
  // A service that survives its registry going away (it traps exits), so that its stale entry
  // would show if the registry kept it.
  const service = await rt.start(worker, { input: { trap: true, id: 'python_port' } });
  Registry.register(rt, 'DSPex.Registry', 'python_port', 'PythonPort', service as Pid);

  t.deepEqual(await terminateChild(rt, app, 'registry'), { ok: true });
  const err = unknownRegistry(t, () => Registry.lookup(rt, 'DSPex.Registry', 'python_port'), 'lookup while it is down');
  t.regex(err?.message ?? '', /restarting/, 'the message tells a registry that ran before from one never started');
  t.notRegex(err?.message ?? '', /never started/);
  t.deepEqual(err?.running, []);
  const res = rt.resolve({ via: 'DSPex.Registry', key: 'python_port' });
  t.true(!res.ok && res.error instanceof UnknownRegistryError, 'resolve gives the same error as a value');
  t.true(rt.isAlive(service as Pid), 'the trapping service survived');

  const restarted = await restartChild(rt, app, 'registry');
  t.true(restarted.ok);
  t.deepEqual(Registry.lookup(rt, 'DSPex.Registry', 'python_port'), [], 'the stale entry is gone');
  t.is(Registry.count(rt, 'DSPex.Registry'), 0);
  t.deepEqual(Registry.keys(rt, 'DSPex.Registry', service as Pid), []);
  Registry.register(rt, 'DSPex.Registry', 'python_port', 'PythonPort', service as Pid);
  t.deepEqual(entries(Registry.lookup(rt, 'DSPex.Registry', 'python_port')), [[String(service), 'PythonPort']], 'and it works again');
});

for (const partitions of PARTITIONS) {
  test(`seed error 21, 29–35: killing a partition of a unique registry: the one_for_all restart empties it, no lookup sees a stale entry, and it works again [${partitions} partition${partitions > 1 ? 's' : ''}]`, async (t) => {
    await using rt = createTestRuntime();
    const app = await startApp(t, rt, 'DSPex.Registry', 'unique', partitions);
    const reg = (await whichChildren(rt, app))[0]!.pid as Pid;
    const before = await partitionsOf(rt, reg);
    const service = (await rt.start(worker, { input: { trap: true } })) as Pid;
    const doomed = rt.spawn(agent, { input: 0 });
    const part = Registry.register(rt, 'DSPex.Registry', 'python_port', 'PythonPort', service)!;
    Registry.register(rt, 'DSPex.Registry', 'pool', 'PythonPoolV2', doomed);

    rt.exit(part, 'kill');
    // Right after the kill, with no flush: the supervisor restarts the partitions in the same
    // turn, so the registry answers at once, without the entry its dead partition was
    // responsible for (never a stale entry, and no UnknownRegistryError window either).
    t.deepEqual(Registry.lookup(rt, 'DSPex.Registry', 'python_port'), [], 'during the restart: no stale entry');
    await rt.flush();

    const after = await partitionsOf(rt, reg);
    t.is(after.length, partitions);
    t.true(after.every((p, i) => String(p) !== String(before[i])), 'one_for_all: every partition restarted');
    t.true(rt.isAlive(service), 'the trapping service survived the partition');
    t.false(rt.isAlive(doomed), 'a non-trapping registered process died with its partition (it was linked)');
    // As in Elixir (the partition's ETS tables die with it): an empty registry. Regression note:
    // with 1 partition the supervisor used to restart the partition before the old one's DOWN
    // reached `dropPartition`; the new partition attached to the old tables and the DOWN was then
    // ignored, leaving entries linked to no partition. `attach` now drops the old share first.
    t.deepEqual(Registry.lookup(rt, 'DSPex.Registry', 'python_port'), [], 'the stale entry is gone');
    t.is(Registry.count(rt, 'DSPex.Registry'), 0, 'count is 0');
    t.is(tablesOf(rt, 'DSPex.Registry').ownerCount(), 0, 'the pid table is empty');
    Registry.register(rt, 'DSPex.Registry', 'python_port', 'PythonPort', service);
    t.deepEqual(entries(Registry.lookup(rt, 'DSPex.Registry', 'python_port')), [[String(service), 'PythonPort']], 'it works again');
    t.true(pids(after).includes(String(rt.info(service)!.links.find((l) => pids(after).includes(String(l))))), 'the service is linked to a new partition');
  });
}

test('seed error 21, 29–35: killing a duplicate registry partition drops the entries of the processes it was linked to', async (t) => {
  // Elixir: each partition owns its key and pid tables; a killed partition takes its entries.
  await using rt = createTestRuntime();
  await startApp(t, rt, 'Topics', 'duplicate', 8);
  const subs = await Promise.all(Array.from({ length: 8 }, () => rt.start(worker, { input: { trap: true } }) as Promise<Pid>));
  const owners = subs.map((s) => Registry.register(rt, 'Topics', 'topic', 1, s)!);
  const victim = owners[0]!;
  const survivors = subs.filter((_, i) => String(owners[i]) !== String(victim));
  rt.exit(victim, 'kill');
  await rt.flush();
  // Only the processes of the other partitions are left. Regression note: the restarted
  // partition used to attach before the DOWN was handled, so the killed partition's entries
  // stayed, linked to no partition.
  t.deepEqual(pids(Registry.lookup(rt, 'Topics', 'topic')), pids(survivors));
  t.is(Registry.count(rt, 'Topics'), survivors.length);
});

test("seed error 21, 29–35: the registry's supervisor killed under the app: no lookup sees a stale entry; the app restarts it at the first attempt", async (t) => {
  await using rt = createTestRuntime();
  const app = await startApp(t, rt, 'DSPex.Registry', 'unique', 2);
  const service = (await rt.start(worker, { input: { trap: true } })) as Pid;
  Registry.register(rt, 'DSPex.Registry', 'python_port', 'PythonPort', service);
  const reg = (await whichChildren(rt, app))[0]!.pid as Pid;
  rt.exit(reg, 'kill');
  // The app restarts the registry in the same turn, so right after the kill it is back, and
  // empty (its tables died with it): never the old entry.
  t.deepEqual(Registry.lookup(rt, 'DSPex.Registry', 'python_port'), [], 'back, and empty, at once');
  await rt.flush();
  t.deepEqual(Registry.lookup(rt, 'DSPex.Registry', 'python_port'), [], 'back, and empty');
  t.true(rt.isAlive(app));
  // As in Elixir (the old registry's tables and name die with it), the restart succeeds at once.
  // Regression note: the app used to restart the registry before the old partitions had exited;
  // the new partition-0 found 'DSPex.Registry' still published and stopped with "a registry
  // named 'DSPex.Registry' is already running", so the restart was retried (counted toward the
  // app's restart intensity, with a start_error logged). A partition now retires tables whose
  // supervisor is dead.
  t.deepEqual(
    rt.trace.of('supervisor.childStartFailed').map((e) => e.id),
    [],
    'no failed start while restarting the registry',
  );
  t.deepEqual(rt.logs.at('error').filter((r) => /start_error/.test(r.message)).map((r) => r.message), []);
});

test('seed error 21, 29–35: a registry stopped for good stays an UnknownRegistryError that says it ran before', async (t) => {
  await using rt = createTestRuntime();
  const reg = await startRegistry(t, rt, { name: 'DSPex.Registry', keys: 'unique' });
  await rt.stop(reg, 'shutdown');
  const err = unknownRegistry(t, () => Registry.count(rt, 'DSPex.Registry'), 'count after stop');
  t.regex(err?.message ?? '', /was stopped/);
  t.deepEqual(Registry.running(rt), []);
  // And it can be started again, empty.
  await startRegistry(t, rt, { name: 'DSPex.Registry', keys: 'unique' });
  t.is(Registry.count(rt, 'DSPex.Registry'), 0);
});

test('resolution order: local name → nameRegistries (in order) → fallback resolvers', async (t) => {
  const answers: Record<string, Pid> = {};
  const fallback = spyResolver(answers);
  await using rt = createTestRuntime({ nameRegistries: ['First', 'Second'], resolvers: [fallback] });
  await startRegistry(t, rt, { name: 'First', keys: 'unique' });
  await startRegistry(t, rt, { name: 'Second', keys: 'unique', partitions: 8 });
  const [local, first, second, last] = (await Promise.all(['local', 'first', 'second', 'fallback'].map((v) => rt.start(agent, { input: v })))) as Pid[];
  answers.svc = last!;
  rt.register('svc', local!);
  Registry.register(rt, 'First', 'svc', undefined, first!);
  Registry.register(rt, 'Second', 'svc', undefined, second!);
  fallback.asked.length = 0;

  t.is(await rt.call('svc', 'get'), 'local', '1. the local name');
  rt.unregister('svc');
  t.is(await rt.call('svc', 'get'), 'first', '2. the first registry');
  Registry.unregister(rt, 'First', 'svc', first!);
  t.is(await rt.call('svc', 'get'), 'second', '3. the second registry');
  t.deepEqual(fallback.asked, [], 'resolvers are not asked while a registry has the name');
  Registry.unregister(rt, 'Second', 'svc', second!);
  t.is(await rt.call('svc', 'get'), 'fallback', '4. the fallback resolver');
  t.deepEqual(fallback.asked, ['svc'], 'asked once, by that call');

  // A resolver added later comes after the configured ones.
  const later = spyResolver({ other: local! });
  const remove = rt.addResolver(later);
  t.is(String(rt.whereis('other')), String(local));
  t.deepEqual(later.asked, ['other']);
  t.is(String(rt.whereis('svc')), String(last), 'the configured resolver answers first');
  t.deepEqual(later.asked, ['other'], 'the later one was not asked for svc');
  remove();
  delete answers.svc;
  const res = rt.resolve('svc');
  t.true(!res.ok && res.error instanceof NoProcessError, 'nobody has it: NoProcessError');
  t.is(rt.whereis('other'), undefined, 'the removed resolver is not asked');
});

test('seed errors 1, 5, 12, 19, 22, 33: when a configured registry is down, resolution fails with a typed error instead of falling through to a fallback resolver that returns another service', async (t) => {
  const resolverBox: { pool?: Pid } = {};
  const fallback = spyResolver({});
  const resolver: FallbackResolver = (name) => (fallback(name), name === 'adapter' ? resolverBox.pool : undefined);
  await using rt = createTestRuntime({ nameRegistries: ['DSPex.Registry'], resolvers: [resolver] });
  const pool = (await rt.start(agent, { input: 'PythonPoolV2' })) as Pid;
  resolverBox.pool = pool;
  const port = (await rt.start(worker, { input: { trap: true } })) as Pid;

  // 1. Never started.
  let res = rt.resolve('adapter');
  t.true(!res.ok && res.error instanceof UnknownRegistryError, 'never started: UnknownRegistryError');
  await t.throwsAsync(rt.call('adapter', 'get'), { instanceOf: UnknownRegistryError }, 'never PythonPoolV2');
  t.deepEqual(fallback.asked, []);

  // 2. Up, with the adapter registered: the registry's answer, not the fallback's.
  const app = await startApp(t, rt, 'DSPex.Registry');
  Registry.register(rt, 'DSPex.Registry', 'adapter', 'PythonPort', port);
  res = rt.resolve('adapter');
  t.true(res.ok && String(res.pid) === String(port), 'PythonPort');
  t.deepEqual(fallback.asked, []);

  // 3. Down (terminated by its supervisor): a typed error, not the fallback's service.
  await terminateChild(rt, app, 'registry');
  res = rt.resolve('adapter');
  t.false(res.ok);
  if (!res.ok) {
    t.true(res.error instanceof UnknownRegistryError);
    t.regex(res.error.message, /restarting|was stopped/);
  }
  await t.throwsAsync(rt.call('adapter', 'get'), { instanceOf: UnknownRegistryError });
  t.throws(() => rt.send('adapter', { type: 'x' }), { instanceOf: UnknownRegistryError });
  t.deepEqual(fallback.asked, [], 'the fallback resolver was never consulted while the registry was down');

  // 4. Back: the stale registration is gone; re-registered, PythonPort again.
  await restartChild(rt, app, 'registry');
  Registry.register(rt, 'DSPex.Registry', 'adapter', 'PythonPort', port);
  res = rt.resolve('adapter');
  t.true(res.ok && String(res.pid) === String(port));
});

test('seed errors 1, 5, 12, 19, 22, 33: a fallback resolver answering with a dead pid is NoProcessError, not the next resolver\'s service', async (t) => {
  const second = spyResolver({});
  await using rt = createTestRuntime();
  const dead = rt.spawn(agent, { input: 'old' });
  await rt.stop(dead);
  const other = rt.spawn(agent, { input: 'PythonPoolV2' });
  rt.addResolver((name) => (name === 'adapter' ? dead : undefined));
  rt.addResolver((name) => (second(name), name === 'adapter' ? other : undefined));
  const res = rt.resolve('adapter');
  t.true(!res.ok && res.error instanceof NoProcessError);
  t.deepEqual(second.asked, [], 'the first resolver that knows the name decides');
});

test('seed errors 1, 5, 12, 19, 22, 33: a via name is answered by its registry alone (fallback resolvers are for plain names)', async (t) => {
  const fallback = spyResolver({});
  await using rt = createTestRuntime({ resolvers: [fallback] });
  await startRegistry(t, rt, { name: 'DSPex.Registry', keys: 'unique', partitions: 8 });
  const port = (await rt.start(agent, { name: { via: 'DSPex.Registry', key: 'adapter' }, input: 'PythonPort' })) as Pid;
  t.is(await rt.call({ via: 'DSPex.Registry', key: 'adapter' }, 'get'), 'PythonPort');
  await rt.stop(port);
  const res = rt.resolve({ via: 'DSPex.Registry', key: 'adapter' });
  t.true(!res.ok && res.error instanceof NoProcessError);
  await t.throwsAsync(rt.call({ via: 'DSPex.Registry', key: 'adapter' }, 'get'), { instanceOf: NoProcessError });
  t.deepEqual(fallback.asked, []);
});

test('seed errors 1, 5, 12, 19, 22, 33: a name whose holder exited (restarting) never falls through to a fallback resolver that knows another service', async (t) => {
  const other = { pid: undefined as Pid | undefined };
  await using rt = createTestRuntime({ nameRegistries: ['DSPex.Registry'], resolvers: [(name) => (name === 'adapter' ? other.pid : undefined)] });
  await startRegistry(t, rt, { name: 'DSPex.Registry', keys: 'unique' });
  other.pid = (await rt.start(worker)) as Pid; // PythonPoolV2, known only to the fallback
  const port = (await rt.start(worker)) as Pid; // PythonPort, the registered adapter
  Registry.register(rt, 'DSPex.Registry', 'adapter', 'PythonPort', port);
  t.is(String(rt.whereis('adapter')), String(port));

  rt.exit(port, 'kill'); // its supervisor would be restarting it now
  t.is(rt.whereis('adapter'), undefined, 'not the fallback service');
  await t.throwsAsync(rt.call('adapter', 'ping'), { instanceOf: NoProcessError });

  const restarted = (await rt.start(worker)) as Pid;
  Registry.register(rt, 'DSPex.Registry', 'adapter', 'PythonPort', restarted);
  t.is(String(rt.whereis('adapter')), String(restarted), 'back to the registered adapter');

  Registry.unregister(rt, 'DSPex.Registry', 'adapter', restarted);
  t.is(String(rt.whereis('adapter')), String(other.pid), 'an explicit unregister hands the name to the fallback');
});

test('seed errors 1, 5, 12, 19, 22, 33: a local name whose process exited does not fall through to a fallback resolver either', async (t) => {
  const other = { pid: undefined as Pid | undefined };
  await using rt = createTestRuntime({ resolvers: [(name) => (name === 'adapter' ? other.pid : undefined)] });
  other.pid = (await rt.start(worker)) as Pid;
  const local = (await rt.start(worker, { name: 'adapter' })) as Pid;
  t.is(String(rt.whereis('adapter')), String(local));
  rt.exit(local, 'kill');
  t.is(rt.whereis('adapter'), undefined);
  const again = (await rt.start(worker, { name: 'adapter' })) as Pid;
  t.is(String(rt.whereis('adapter')), String(again));
  t.true(rt.unregister('adapter'));
  t.is(String(rt.whereis('adapter')), String(other.pid), 'only an explicit unregister frees the name for the fallback');
});

test('regression: a vacated local name could not be unregistered — unregister forgets it, and the name resolves through the registry and the fallback again', async (t) => {
  const other = { pid: undefined as Pid | undefined };
  await using rt = createTestRuntime({ nameRegistries: ['DSPex.Registry'], resolvers: [(name) => (name === 'adapter' ? other.pid : undefined)] });
  await startRegistry(t, rt, { name: 'DSPex.Registry', keys: 'unique' });
  other.pid = (await rt.start(worker)) as Pid;
  const local = (await rt.start(worker, { name: 'adapter' })) as Pid;
  await rt.stop(local);
  const registered = (await rt.start(worker)) as Pid;
  Registry.register(rt, 'DSPex.Registry', 'adapter', 'PythonPort', registered);
  t.is(rt.whereis('adapter'), undefined, 'vacated: neither the registry nor the fallback answers');
  t.true(rt.unregister('adapter'), 'the vacated name is forgotten');
  t.false(rt.unregister('adapter'), 'once');
  t.is(String(rt.whereis('adapter')), String(registered), 'the registry answers again');
  Registry.unregister(rt, 'DSPex.Registry', 'adapter', registered);
  t.is(String(rt.whereis('adapter')), String(other.pid), 'then the fallback');
});

/** What a resolution gave, as a comparable string: the pid, or the error's code. */
function outcome(res: ResolveResult): string {
  return res.ok ? String(res.pid) : res.error.code;
}

/**
 * A process that traps exits and, when an EXIT arrives, records how `name` resolves at that
 * moment (what a supervisor or a client handling its peer's death would do first).
 */
const resolveOnExit = fromCallback<{ type: string }, { rt: Runtime; name: string; seen: string[] }>(({ input, receive }) => {
  receive((event) => {
    if (event.type === 'xotp.exit') input.seen.push(`${String((event as ExitMessage).from)} -> ${outcome(input.rt.resolve(input.name))}`);
  });
});

for (const partitions of PARTITIONS) {
  // Regression: the runtime emits `process.exited` and delivers the EXIT to every linked process
  // before the registry partition has removed the dead holder's entry. In that window `whereis`
  // found no live holder and `wasHeld` did not know the key yet (it only learnt of it at
  // cleanup), so resolution fell through to the fallback resolver: another service.
  test(`regression: a name resolves to another service during a restart — seen from a process.exited listener [${partitions} partition${partitions > 1 ? 's' : ''}]`, async (t) => {
    const answers: Record<string, Pid> = {};
    const fallback = spyResolver(answers);
    await using rt = createTestRuntime({ nameRegistries: ['Services'], resolvers: [fallback] });
    await startRegistry(t, rt, { name: 'Services', keys: 'unique', partitions });
    answers.db = rt.spawn(agent, { input: 'other service' }); // another service, known to the fallback
    const svc = rt.spawn(agent, { input: 'db' });
    Registry.register(rt, 'Services', 'db', undefined, svc);
    t.is(outcome(rt.resolve('db')), String(svc));

    const seen: string[] = [];
    const calls: Array<Promise<unknown>> = [];
    rt.events.on('process.exited', (e) => {
      if (!Pid.equals(e.pid, svc)) return;
      seen.push(`resolve ${outcome(rt.resolve('db'))}`);
      seen.push(`whereis ${String(rt.whereis('db'))}`);
      calls.push(rt.call('db', 'get'));
    });
    rt.exit(svc, 'kill');
    t.deepEqual(seen, ['resolve noproc', 'whereis undefined'], 'vacated from the moment of death, not the fallback');
    t.is(calls.length, 1);
    await t.throwsAsync(calls[0]!, { instanceOf: NoProcessError });
    await rt.flush();
    t.is(outcome(rt.resolve('db')), 'noproc', 'and after the partition cleaned up');
    t.deepEqual(fallback.asked, [], 'the configured fallback was never asked');

    const restarted = rt.spawn(agent, { input: 'db again' });
    Registry.register(rt, 'Services', 'db', undefined, restarted);
    t.is(await rt.call('db', 'get'), 'db again', 'registered again: it resolves to the new holder');
  });

  test(`regression: a name resolves to another service during a restart — seen from a trapping linked process handling the EXIT [${partitions} partition${partitions > 1 ? 's' : ''}]`, async (t) => {
    const answers: Record<string, Pid> = {};
    await using rt = createTestRuntime({ nameRegistries: ['Services'], resolvers: [(name) => answers[name]] });
    await startRegistry(t, rt, { name: 'Services', keys: 'unique', partitions });
    answers.db = rt.spawn(agent, { input: 'other service' });
    const svc = rt.spawn(agent, { input: 'db' });
    const seen: string[] = [];
    // Linked before the registration links the holder to its partition, so this EXIT is
    // handled first (links are signalled in the order they were made).
    rt.spawn(resolveOnExit, { input: { rt, name: 'db', seen }, trapExit: true, link: svc });
    Registry.register(rt, 'Services', 'db', undefined, svc);
    rt.spawn(resolveOnExit, { input: { rt, name: 'db', seen }, trapExit: true, link: svc });
    rt.exit(svc, 'boom');
    await rt.flush();
    t.deepEqual(seen, [`${String(svc)} -> noproc`, `${String(svc)} -> noproc`], 'both linked processes saw the name vacated');
    t.is(outcome(rt.resolve('db')), 'noproc');
  });
}
