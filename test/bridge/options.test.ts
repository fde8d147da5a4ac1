/**
 * Options are validated at the boundary (DESIGN.md "Conventions"): a wrong shape throws
 * `InvalidOptionError` naming the key, the expected type and the value received, when
 * `pythonBridge()` is called — before any process exists.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { pythonBridge, callBridge, InvalidOptionError, TimeoutError, type Pid, type PythonBridgeOptions } from '../../src/index.js';
import { EXAMPLES, startBridge, track } from '../helpers/bridge.js';

function invalid(t: import('ava').ExecutionContext, options: unknown, key: string, what: string) {
  const err = t.throws(() => pythonBridge(options as PythonBridgeOptions), { instanceOf: InvalidOptionError }, what);
  if (err) {
    t.is((err as InvalidOptionError).key, key, `${what}: names the key`);
    t.is(err.code, 'invalid_option');
  }
}

test('neither module nor script, or both: InvalidOptionError naming pythonBridge.module', (t) => {
  invalid(t, {}, 'pythonBridge.module', 'no module and no script');
  invalid(t, undefined, 'pythonBridge.module', 'no options at all');
  invalid(t, { module: EXAMPLES, script: 'x.py' }, 'pythonBridge.module', 'both module and script');
  const err = t.throws(() => pythonBridge({}), { instanceOf: InvalidOptionError });
  t.regex(err!.message, /exactly one of module or script/);
});

test('an options value that is not a plain object names pythonBridge itself', (t) => {
  invalid(t, null, 'pythonBridge', 'null');
  invalid(t, 'xotp_bridge.examples', 'pythonBridge', 'a string');
  invalid(t, [EXAMPLES], 'pythonBridge', 'an array');
});

test('an unknown (misspelt) option is refused, naming it', (t) => {
  invalid(t, { modul: EXAMPLES }, 'pythonBridge.modul', 'misspelt module');
  invalid(t, { module: EXAMPLES, timeout: 10 }, 'pythonBridge.timeout', 'timeout is not a bridge option');
});

test('wrong types and out-of-range numbers name their key and carry what was received', (t) => {
  const cases: Array<[string, unknown]> = [
    ['module', 5],
    ['script', {}],
    ['python', 3],
    ['cwd', 1],
    ['args', 'a b'],
    ['args', ['a', 2]],
    ['env', { PATH: 1 }],
    ['env', ['A=1']],
    ['env', null],
    ['startupTimeout', -1],
    ['startupTimeout', 1.5],
    ['startupTimeout', 'forever'],
    ['startupTimeout', Number.NaN],
    ['callTimeout', -5],
    ['callTimeout', '1000'],
    ['shutdownTimeout', -1],
    ['shutdownTimeout', null],
    ['maxFrameBytes', 8],
    ['maxFrameBytes', 2 ** 31],
    ['maxFrameBytes', 1024.5],
    ['maxPending', 0],
    ['maxPending', -1],
    ['maxPending', '10'],
    ['concurrency', 0],
    ['concurrency', 1.5],
    ['concurrency', '2'],
    ['concurrency', 1025],
    ['label', 'a/b'],
    ['label', 'a b'],
    ['label', 5],
  ];
  for (const [key, value] of cases) {
    const base = key === 'module' || key === 'script' ? {} : { module: EXAMPLES };
    const err = t.throws(() => pythonBridge({ ...base, [key]: value } as PythonBridgeOptions), { instanceOf: InvalidOptionError }, `${key}: ${String(value)}`);
    t.is((err as InvalidOptionError | undefined)?.key, `pythonBridge.${key}`, `${key}: ${JSON.stringify(value)}`);
    t.deepEqual((err as InvalidOptionError | undefined)?.received, value, `${key}: received`);
  }
});

test('valid options build the logic without starting anything', (t) => {
  const good: PythonBridgeOptions[] = [
    { module: EXAMPLES },
    { script: 'serve.py' },
    { module: EXAMPLES, startupTimeout: 'infinity', callTimeout: Infinity, shutdownTimeout: 0 },
    { module: EXAMPLES, maxFrameBytes: 16, maxPending: 1, concurrency: 1024, label: 'worker', args: [], env: {}, cwd: '/' },
  ];
  for (const o of good) t.truthy(pythonBridge(o), JSON.stringify(o));
});

// Regression note: callBridge's own options were not validated: `timeout: -1` / `1.5` / `'x'`
// became deadlines on the runtime clock and an unknown key (`{ timout: 5 }`) was ignored. They
// now throw InvalidOptionError naming the key, as every option in xotp does.
test('callBridge validates its options (timeout, unknown keys)', async (t) => {
  const rt = createTestRuntime();
  const b = await startBridge(rt);
  try {
    for (const options of [{ timeout: -1 }, { timeout: 'x' }, { timeout: 1.5 }, { timout: 5 }]) {
      const call = track(callBridge(rt, b.pid, 'echo', 1, options as never));
      await call.promise;
      t.true(call.error instanceof InvalidOptionError, `${JSON.stringify(options)}: expected InvalidOptionError, got ${call.state} ${String(call.error ?? JSON.stringify(call.value))}`);
      if (call.error instanceof TimeoutError) t.log(`${JSON.stringify(options)} → ${call.error.message}`);
    }
  } finally {
    await rt.stop(b.pid);
    await rt.dispose();
  }
});

test('regression: grouped interpreter flags (-sE, -SI, -Sc) got past the pythonArgs refusal — read as CPython reads them; values of -W/-X are not flags', async (t) => {
  for (const bad of [['-sE'], ['-SI'], ['-Sc', 'code'], ['-bm', 'http.server'], ['-X', 'dev', '-E'], ['--'], ['-'], ['script.py'], ['-W', 'error', 'run.py']]) {
    const err = t.throws(() => pythonBridge({ module: 'm', pythonArgs: bad }), { instanceOf: InvalidOptionError }, bad.join(' '));
    t.is(err?.key, 'pythonBridge.pythonArgs');
  }
  for (const good of [['-X', 'importtime'], ['-Ximporttime'], ['-W', 'error::DeprecationWarning:Mod'], ['-WError'], ['-OO', '-B', '-s'], ['-X', 'pycache_prefix=/Cache/Main'], ['--check-hash-based-pycs', 'never']]) {
    t.notThrows(() => pythonBridge({ module: 'm', pythonArgs: good }), good.join(' '));
  }
});

test('regression: an empty module, script or python passed the options check and failed only at start — refused naming the key', (t) => {
  for (const [options, key] of [
    [{ module: '' }, 'pythonBridge.module'],
    [{ script: '' }, 'pythonBridge.script'],
    [{ module: 'm', python: '' }, 'pythonBridge.python'],
  ] as const) {
    const err = t.throws(() => pythonBridge(options), { instanceOf: InvalidOptionError });
    t.is(err?.key, key);
  }
});

test('pythonArgs go to the interpreter before the module (-S: a stdlib-only worker starts without site); options that would change what runs are refused', async (t) => {
  await using rt = createTestRuntime();
  const pid = (await rt.start(pythonBridge({ module: 'xotp_bridge.examples', pythonArgs: ['-S', '-X', 'utf8'] }))) as Pid;
  t.is(await callBridge(rt, pid, 'echo', 'fast'), 'fast');
  for (const bad of [['-c', 'print(1)'], ['-m', 'http.server'], ['-I'], ['-E'], 'S', [1]]) {
    const err = t.throws(() => pythonBridge({ module: 'm', pythonArgs: bad as never }), { instanceOf: InvalidOptionError });
    t.is(err?.key, 'pythonBridge.pythonArgs');
  }
  await rt.stop(pid, 'shutdown');
});
