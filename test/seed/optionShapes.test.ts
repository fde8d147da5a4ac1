/**
 * Issue 9, fault 5: "The seed's own error class still gets through: options of the wrong shape
 * are silently accepted." The seed system died on `%{pool_name: ..., max_retries: ...}` given
 * where a keyword list was expected (seed errors 13/15); xotp promises options are plain objects
 * checked at the boundary. Before this fix a Map (no own keys) or an array slipped through every
 * hand-rolled check that only looked at `typeof`, `Array.isArray` or the keys a `for…in` loop
 * finds: the fast paths of `runtime.call`, `Pool.run`, `Pool.checkout` and `callBridge` took a Map
 * for "no options", `supervisor()` / `dynamicSupervisor()` / `extraInput` / registry `meta` /
 * `pythonBridge`'s `env` took it for an empty object, a `Registry.select` spec that was a Map
 * matched every entry, `createTestRuntime` checked nothing, a Map child spec was reported as
 * `missing_id`, `advance(NaN)` threw a bare RangeError, and `stop(pid, { timeout })` stopped the
 * process with `{ timeout }` as its exit reason.
 *
 * One table: each entry point with a Map (the seed's own options as a Map), an array, a
 * misspelt key, and NaN where a number is expected. Every refusal is an `InvalidOptionError`
 * naming the key, what was expected and what was received ("a Map", "an array").
 */
import test, { type ExecutionContext } from 'ava';
import { createTestRuntime, SimulatedClock, type TestRuntime } from '../../src/testing/index.js';
import {
  createRuntime,
  supervisor,
  dynamicSupervisor,
  startChild,
  registry,
  Registry,
  pythonBridge,
  callBridge,
  Pool,
  InvalidOptionError,
  Pid,
} from '../../src/index.js';
import { idle } from '../helpers/actors.js';
import { agent, startRegistry } from '../helpers/registryHelpers.js';

/** The seed's `execute_anonymous` options, as the Map that a port of its code would build. */
const seedMap = () => new Map<string, unknown>([['pool_name', 'default'], ['max_retries', 3]]);

type Received = 'a Map' | 'an array' | 'unknown option' | 'NaN' | 'a negative number';

interface Row {
  /** What is given, for the report. */
  readonly given: Received;
  /** Does the wrong thing; may throw or return a rejected promise. */
  readonly run: (rt: TestRuntime) => unknown;
  /** The key the error must name. */
  readonly key: string;
  /** The error's code (InvalidOptionError subclasses keep their own documented codes). */
  readonly code?: string;
}

interface EntryPoint {
  readonly name: string;
  /** Set up what the rows need (a registry, a process); returns nothing or a value for them. */
  readonly rows: readonly Row[];
  readonly setup?: (t: ExecutionContext, rt: TestRuntime) => Promise<void>;
}

/** What the message must say about the value received. */
const saysReceived: Record<Received, RegExp> = {
  'a Map': /got a Map \(keys: pool_name, max_retries\)/,
  'an array': /got an array/,
  'unknown option': /unknown option|(child spec|supervisor flags): unknown_key/,
  NaN: /got number NaN/,
  'a negative number': /got number -1/,
};

async function refusal(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  return undefined;
}

// A process the rows can aim at (runtime.call, stop); spawned fresh by the rows that need it.
const someProcess = (rt: TestRuntime): Pid => rt.spawn(agent, { input: 0 });

const entryPoints: EntryPoint[] = [
  {
    name: 'runtime.call (fast path)',
    rows: [
      { given: 'a Map', run: (rt) => rt.call(someProcess(rt), 'get', seedMap() as never), key: 'call' },
      { given: 'an array', run: (rt) => rt.call(someProcess(rt), 'get', [] as never), key: 'call' },
      { given: 'unknown option', run: (rt) => rt.call(someProcess(rt), 'get', { timout: 100 } as never), key: 'call.timout' },
      { given: 'NaN', run: (rt) => rt.call(someProcess(rt), 'get', { timeout: NaN }), key: 'call.timeout' },
    ],
  },
  {
    name: 'Pool.run (fast path)',
    rows: [
      { given: 'a Map', run: (rt) => Pool.run(rt, 'py', 'op', {}, seedMap() as never), key: 'Pool.run' },
      { given: 'an array', run: (rt) => Pool.run(rt, 'py', 'op', {}, [] as never), key: 'Pool.run' },
      { given: 'unknown option', run: (rt) => Pool.run(rt, 'py', 'op', {}, { sesion: 's1' } as never), key: 'Pool.run.sesion' },
      { given: 'NaN', run: (rt) => Pool.run(rt, 'py', 'op', {}, { checkoutTimeout: NaN }), key: 'Pool.run.checkoutTimeout' },
    ],
  },
  {
    name: 'Pool.checkout (fast path)',
    rows: [
      { given: 'a Map', run: (rt) => Pool.checkout(rt, 'py', async () => 1, seedMap() as never), key: 'Pool.checkout' },
      { given: 'an array', run: (rt) => Pool.checkout(rt, 'py', async () => 1, [] as never), key: 'Pool.checkout' },
      { given: 'unknown option', run: (rt) => Pool.checkout(rt, 'py', async () => 1, { timeout: 5 } as never), key: 'Pool.checkout.timeout' },
      { given: 'NaN', run: (rt) => Pool.checkout(rt, 'py', async () => 1, { checkoutTimeout: NaN }), key: 'Pool.checkout.checkoutTimeout' },
    ],
  },
  {
    name: 'callBridge (fast path)',
    rows: [
      { given: 'a Map', run: (rt) => callBridge(rt, 'py', 'op', {}, seedMap() as never), key: 'callBridge' },
      { given: 'an array', run: (rt) => callBridge(rt, 'py', 'op', {}, [] as never), key: 'callBridge' },
      { given: 'unknown option', run: (rt) => callBridge(rt, 'py', 'op', {}, { timout: 5 } as never), key: 'callBridge.timout' },
      { given: 'NaN', run: (rt) => callBridge(rt, 'py', 'op', {}, { timeout: NaN }), key: 'callBridge.timeout' },
    ],
  },
  {
    name: 'supervisor()',
    rows: [
      { given: 'a Map', run: () => supervisor(seedMap() as never), key: 'supervisor', code: 'invalid_supervisor_flags' },
      { given: 'an array', run: () => supervisor([] as never), key: 'supervisor', code: 'invalid_supervisor_flags' },
      { given: 'unknown option', run: () => supervisor({ strategy: 'one_for_one', max_restarts: 3 } as never), key: 'supervisor.max_restarts', code: 'invalid_supervisor_flags' },
      { given: 'NaN', run: () => supervisor({ maxRestarts: NaN }), key: 'supervisor.maxRestarts', code: 'invalid_supervisor_flags' },
    ],
  },
  {
    name: 'dynamicSupervisor()',
    rows: [
      { given: 'a Map', run: () => dynamicSupervisor(seedMap() as never), key: 'dynamicSupervisor', code: 'invalid_supervisor_flags' },
      { given: 'an array', run: () => dynamicSupervisor([] as never), key: 'dynamicSupervisor', code: 'invalid_supervisor_flags' },
      { given: 'unknown option', run: () => dynamicSupervisor({ max_children: 4 } as never), key: 'dynamicSupervisor.max_children', code: 'invalid_supervisor_flags' },
      { given: 'NaN', run: () => dynamicSupervisor({ maxChildren: NaN }), key: 'dynamicSupervisor.maxChildren', code: 'invalid_supervisor_flags' },
    ],
  },
  {
    name: 'dynamicSupervisor() extraInput',
    rows: [
      { given: 'a Map', run: () => dynamicSupervisor({ extraInput: seedMap() as never }), key: 'dynamicSupervisor.extraInput', code: 'invalid_supervisor_flags' },
      { given: 'an array', run: () => dynamicSupervisor({ extraInput: [] as never }), key: 'dynamicSupervisor.extraInput', code: 'invalid_supervisor_flags' },
      { given: 'unknown option', run: () => dynamicSupervisor({ extra_input: {} } as never), key: 'dynamicSupervisor.extra_input', code: 'invalid_supervisor_flags' },
      // extraInput is free-form: no number in it to get wrong.
    ],
  },
  {
    name: 'a child spec',
    rows: [
      // A Map spec used to be reported as missing its id: it is not a spec at all.
      { given: 'a Map', run: () => supervisor({ children: [seedMap() as never] }), key: 'supervisor.children[0]', code: 'invalid_child_spec' },
      { given: 'an array', run: () => supervisor({ children: [[] as never] }), key: 'supervisor.children[0]', code: 'invalid_child_spec' },
      { given: 'unknown option', run: () => supervisor({ children: [{ id: 'a', start: idle, restrat: 'temporary' } as never] }), key: 'supervisor.children[0].restrat', code: 'invalid_child_spec' },
      { given: 'NaN', run: () => supervisor({ children: [{ id: 'a', start: idle, shutdown: NaN }] }), key: 'supervisor.children[0].shutdown', code: 'invalid_child_spec' },
    ],
  },
  {
    name: 'registry()',
    rows: [
      // Used to say "registry.name got undefined".
      { given: 'a Map', run: () => registry(seedMap() as never), key: 'registry' },
      { given: 'an array', run: () => registry([] as never), key: 'registry' },
      { given: 'unknown option', run: () => registry({ name: 'R', keys: 'unique', partition: 2 } as never), key: 'registry.partition' },
      { given: 'NaN', run: () => registry({ name: 'R', keys: 'unique', partitions: NaN }), key: 'registry.partitions' },
    ],
  },
  {
    name: 'registry() meta',
    rows: [
      { given: 'a Map', run: () => registry({ name: 'R', keys: 'unique', meta: seedMap() as never }), key: 'registry.meta' },
      { given: 'an array', run: () => registry({ name: 'R', keys: 'unique', meta: [] as never }), key: 'registry.meta' },
      { given: 'unknown option', run: () => registry({ name: 'R', keys: 'unique', metadata: {} } as never), key: 'registry.metadata' },
      // meta is free-form: no number in it to get wrong.
    ],
  },
  {
    name: 'Registry.select spec',
    setup: async (t, rt) => {
      await startRegistry(t, rt, { name: 'Services', keys: 'unique' });
      Registry.register(rt, 'Services', 'db', 1, rt.spawn(agent, { input: 0 }));
    },
    rows: [
      // A Map spec used to match every entry.
      { given: 'a Map', run: (rt) => Registry.select(rt, 'Services', seedMap() as never), key: 'select.spec' },
      { given: 'an array', run: (rt) => Registry.countSelect(rt, 'Services', [] as never), key: 'select.spec' },
      { given: 'unknown option', run: (rt) => Registry.select(rt, 'Services', { kye: 'db' } as never), key: 'select.spec.kye' },
      // A spec holds patterns, not numbers: NaN is a value to match (Object.is), not an error.
    ],
  },
  {
    name: 'pythonBridge() env',
    rows: [
      // Used to be silently dropped: the Python process started without the variables.
      { given: 'a Map', run: () => pythonBridge({ module: 'm', env: seedMap() as never }), key: 'pythonBridge.env' },
      { given: 'an array', run: () => pythonBridge({ module: 'm', env: [] as never }), key: 'pythonBridge.env' },
      { given: 'unknown option', run: () => pythonBridge({ module: 'm', environment: {} } as never), key: 'pythonBridge.environment' },
      { given: 'NaN', run: () => pythonBridge({ module: 'm', startupTimeout: NaN }), key: 'pythonBridge.startupTimeout' },
    ],
  },
  {
    name: 'createTestRuntime()',
    rows: [
      { given: 'a Map', run: () => createTestRuntime(seedMap() as never), key: 'createTestRuntime' },
      { given: 'an array', run: () => createTestRuntime([] as never), key: 'createTestRuntime' },
      { given: 'unknown option', run: () => createTestRuntime({ shutdown_timeout: 10 } as never), key: 'createTestRuntime.shutdown_timeout' },
      { given: 'NaN', run: () => createTestRuntime({ startTime: NaN }), key: 'createTestRuntime.startTime' },
    ],
  },
  {
    name: 'createRuntime()',
    rows: [
      { given: 'a Map', run: () => createRuntime(seedMap() as never), key: 'createRuntime' },
      { given: 'an array', run: () => createRuntime([] as never), key: 'createRuntime' },
      { given: 'unknown option', run: () => createRuntime({ nmae: 'app' } as never), key: 'createRuntime.nmae' },
      // createRuntime takes no number.
    ],
  },
  {
    name: 'rt.advance / SimulatedClock.advance',
    rows: [
      { given: 'a Map', run: (rt) => rt.advance(seedMap() as never), key: 'advance.ms' },
      { given: 'an array', run: () => new SimulatedClock().advance([] as never), key: 'advance.ms' },
      // advance takes no options object: nothing to misspell.
      { given: 'NaN', run: (rt) => rt.advance(NaN), key: 'advance.ms' },
      { given: 'a negative number', run: (rt) => rt.advance(-1), key: 'advance.ms' },
    ],
  },
  {
    name: 'rt.stop options',
    rows: [
      { given: 'a Map', run: (rt) => rt.stop(someProcess(rt), 'normal', seedMap() as never), key: 'stop' },
      { given: 'an array', run: (rt) => rt.stop(someProcess(rt), 'normal', [] as never), key: 'stop' },
      { given: 'unknown option', run: (rt) => rt.stop(someProcess(rt), 'normal', { timout: 1000 } as never), key: 'stop.timout' },
      { given: 'NaN', run: (rt) => rt.stop(someProcess(rt), 'normal', { timeout: NaN }), key: 'stop.timeout' },
    ],
  },
];

for (const entry of entryPoints) {
  test(`regression: options of the wrong shape are silently accepted — ${entry.name}: ${entry.rows.map((r) => r.given).join(', ')} refused with InvalidOptionError`, async (t) => {
    await using rt = createTestRuntime();
    await entry.setup?.(t, rt);
    for (const row of entry.rows) {
      const label = `${entry.name}, ${row.given}`;
      const err = await refusal(() => row.run(rt));
      if (!(err instanceof InvalidOptionError)) {
        t.fail(`${label}: expected an InvalidOptionError, got ${err === undefined ? 'no error (accepted)' : String(err)}`);
        continue;
      }
      t.is(err.code, row.code ?? 'invalid_option', `${label}: code`);
      t.is(err.key, row.key, `${label}: key`);
      t.true(err.message.includes(`'${row.key}'`), `${label}: the message names the key: ${err.message}`);
      t.true(err.expected.length > 0 && err.message.includes(`expected ${err.expected}`), `${label}: the message says what was expected: ${err.message}`);
      t.regex(err.message, saysReceived[row.given], `${label}: the message says what was received`);
    }
    // Nothing a refused call aimed at was stopped or called: the only processes left are the
    // ones the rows spawned as targets and the setup's.
    await rt.flush();
    t.is(rt.trace.of('process.exited').length, 0, 'no process exited because of a refused option');
  });
}

test('regression: options of the wrong shape are silently accepted — rt.stop(pid, { timeout: 1000 }) is options in the reason slot: refused, the process keeps running', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(agent, { input: 0 });
  const err = await t.throwsAsync(rt.stop(pid, { timeout: 1000 }), { instanceOf: InvalidOptionError });
  t.is(err?.code, 'invalid_option');
  t.is(err?.key, 'stop.reason');
  t.deepEqual(err?.received, { timeout: 1000 });
  t.regex(err?.message ?? '', /stop\(target, reason, \{ timeout \}\)/, 'the message gives the signature');
  t.regex(err?.message ?? '', /got an object \{"timeout":1000\}/);
  t.true(rt.isAlive(pid), 'not stopped with { timeout } as its exit reason');
  t.is(rt.trace.of('process.exited').length, 0);

  // Reasons that are objects with any other key are reasons, as in OTP.
  t.is(await rt.stop(pid, { shutdown: 'maintenance' }), 'ok');
  t.deepEqual(rt.trace.of('process.exited').map((e) => (e as { reason?: unknown }).reason), [{ shutdown: 'maintenance' }]);
  const custom = rt.spawn(agent, { input: 0 });
  const reason = { timeout: 1000, cause: 'upstream' };
  const exited = rt.exited(custom);
  t.is(await rt.stop(custom, reason), 'ok', 'timeout beside another key: a reason, not options');
  t.is(await exited, reason);
  const proper = rt.spawn(agent, { input: 0 });
  t.is(await rt.stop(proper, 'normal', { timeout: 1000 }), 'ok', 'options in their slot still work');
});

test('regression: options of the wrong shape are silently accepted — well-shaped options still take the fast paths and work', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(agent, { input: 7 });
  t.is(await rt.call(pid, 'get', {}), 7);
  t.is(await rt.call(pid, 'get', { timeout: 100 }), 7);
  t.is(await rt.call(pid, 'get', Object.create(null) as never), 7, 'a null-prototype object is a plain object too');
  t.is(await rt.call(pid, 'get', { timeout: 'infinity' }), 7);
  await startRegistry(t, rt, { name: 'Services', keys: 'unique' });
  Registry.register(rt, 'Services', 'db', 1, pid);
  t.is(Registry.countSelect(rt, 'Services', {}), 1, 'an empty plain spec matches everything, on purpose');
  t.is(Registry.countSelect(rt, 'Services', { key: 'other' }), 0);
  t.notThrows(() => registry({ name: 'R', keys: 'unique', meta: { a: 1 } }));
  t.notThrows(() => dynamicSupervisor({ extraInput: { pool: 'py' } }));
  t.notThrows(() => pythonBridge({ module: 'm', env: { A: '1' } }));
  const sup = (await rt.start(dynamicSupervisor())) as Pid;
  const started = await startChild(rt, sup, { start: idle });
  t.true(started.ok);
  const mapSpec = await startChild(rt, sup, seedMap() as never);
  t.like(mapSpec, { ok: false, error: 'invalid_child_spec', problem: 'invalid_child_spec' }, 'startChild: a Map is not a spec (not missing_id)');
});

test('regression: options of the wrong shape are silently accepted — a Map, Set or Date as a match / select pattern matches an equal value, not every object', async (t) => {
  await using rt = createTestRuntime();
  await startRegistry(t, rt, { name: 'Dup', keys: 'duplicate' });
  const p = rt.spawn(agent, { input: 0 });
  Registry.register(rt, 'Dup', 'k', seedMap(), p);
  Registry.register(rt, 'Dup', 'k', { pool_name: 'default' }, p);
  Registry.register(rt, 'Dup', 'k', new Date(5), p);
  Registry.register(rt, 'Dup', 'k', new Set([1]), p);
  const values = (pattern: unknown) => Registry.match(rt, 'Dup', 'k', pattern as never).map((e) => e.value);
  t.deepEqual(values(seedMap()), [seedMap()], 'an equal Map only (it used to match all four)');
  t.deepEqual(values(new Map()), [], 'an empty Map is not a wildcard');
  t.deepEqual(values(new Date(5)), [new Date(5)]);
  t.deepEqual(values(new Set([1])), [new Set([1])]);
  t.is(Registry.countSelect(rt, 'Dup', { value: new Map([['pool_name', 'other']]) as never }), 0);
  t.is(Registry.countSelect(rt, 'Dup', { value: {} }), 4, 'a plain empty object pattern still matches every object, as an Elixir %{} does');
});
