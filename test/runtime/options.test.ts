/**
 * InvalidOptionError names the offending key for bad spawn, call, stop, shutdown, register,
 * exit and createRuntime options; a bad option has no side effect.
 */
import test, { type ExecutionContext } from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { createRuntime, defineServer, InvalidOptionError, NoProcessError } from '../../src/index.js';
import { idle } from '../helpers/actors.js';
import { probeServer } from '../helpers/probe.js';

function keyOf(t: ExecutionContext, fn: () => unknown): string | undefined {
  return t.throws(fn, { instanceOf: InvalidOptionError })?.key;
}

test('InvalidOptionError names the key for bad spawn options, and nothing is spawned', async (t) => {
  await using rt = createTestRuntime();
  const bad: Array<[unknown, string]> = [
    [{ nmae: 'typo' }, 'spawn.nmae'],
    [{ trapExit: 'yes' }, 'spawn.trapExit'],
    [{ name: 'has space' }, 'spawn.name'],
    [{ name: '' }, 'spawn.name'],
    [{ name: 42 }, 'spawn.name'],
    [{ id: 'a/b' }, 'spawn.id'],
    [5, 'spawn'],
    [[], 'spawn'],
  ];
  for (const [options, key] of bad) {
    const err = t.throws(() => rt.spawn(idle, options as never), { instanceOf: InvalidOptionError });
    t.is(err?.key, key, JSON.stringify(options));
    t.is(err?.code, 'invalid_option');
    t.true(err!.message.includes(`'${key}'`), err?.message);
  }
  const e = t.throws(() => rt.spawn(idle, { trapExit: 'yes' } as never), { instanceOf: InvalidOptionError });
  t.is(e?.expected, 'a boolean');
  t.is(e?.received, 'yes');
  t.is(keyOf(t, () => rt.spawn({} as never)), 'spawn.logic');
  // link / parent must be a pid or a name. (The key is 'spawn link' / 'spawn parent', not the
  // dotted 'spawn.link' the schema keys use; see the report.)
  t.regex(keyOf(t, () => rt.spawn(idle, { link: 42 as never })) ?? '', /^spawn[ .]link$/);
  t.regex(keyOf(t, () => rt.spawn(idle, { parent: {} as never })) ?? '', /^spawn[ .]parent$/);
  // A well-formed link/parent that is not alive is a NoProcessError instead.
  t.throws(() => rt.spawn(idle, { link: 'nobody' }), { instanceOf: NoProcessError });
  t.throws(() => rt.spawn(idle, { parent: 'nobody' }), { instanceOf: NoProcessError });
  t.deepEqual(rt.processes(), [], 'no bad spawn left a process behind');
  t.deepEqual(rt.trace.of('process.spawned'), []);
  await t.throwsAsync(rt.start(idle, { nmae: 'x' } as never), { instanceOf: InvalidOptionError });
});

test('InvalidOptionError names the key for bad createRuntime / createTestRuntime options', async (t) => {
  await using rt = createTestRuntime();
  const bad: Array<[unknown, string]> = [
    [{ name: 'bad name' }, 'createRuntime.name'],
    [{ name: '1starts-with-digit' }, 'createRuntime.name'],
    [{ clock: {} }, 'createRuntime.clock'],
    [{ clock: { setTimeout() {}, clearTimeout() {} } }, 'createRuntime.clock'],
    [{ logger: {} }, 'createRuntime.logger'],
    [{ inspect: 42 }, 'createRuntime.inspect'],
    [{ nmae: 'typo' }, 'createRuntime.nmae'],
    ['app', 'createRuntime'],
  ];
  for (const [options, key] of bad) {
    t.is(keyOf(t, () => createRuntime(options as never)), key, JSON.stringify(options));
  }
  // The test runtime builds on createRuntime and reports the same key.
  t.is(keyOf(t, () => createTestRuntime({ name: 'bad name' })), 'createRuntime.name');
  t.true(rt.isAlive(rt.spawn(idle)), 'the runtime in use is unaffected');
});

test('InvalidOptionError names the key for bad stop, shutdown, register, exit and defineServer arguments', async (t) => {
  await using rt = createTestRuntime();
  const p = rt.spawn(probeServer);
  await rt.flush();
  t.is((await t.throwsAsync(rt.stop(p, 'normal', { timeout: -5 }), { instanceOf: InvalidOptionError }))?.key, 'stop.timeout');
  t.is((await t.throwsAsync(rt.stop(p, 'normal', { tiemout: 5 } as never), { instanceOf: InvalidOptionError }))?.key, 'stop.tiemout');
  t.is(keyOf(t, () => rt.shutdown({ timeout: 'soon' as never })), 'shutdown.timeout');
  t.is(rt.state, 'running', 'a rejected shutdown did not start shutting down');
  t.is(keyOf(t, () => rt.register('has space', p)), 'register.name');
  t.is(keyOf(t, () => rt.exit(p, 'boom', 42 as never)), 'exit.from');
  t.is(keyOf(t, () => defineServer({ init: 5 as never })), 'defineServer.init');
  t.is(keyOf(t, () => defineServer({ handleCal: () => ({ reply: 1 }) } as never)), 'defineServer.handleCal');
  t.true(rt.isAlive(p), 'nothing happened to the target');
  t.is(await rt.call(p, 'ping', { timeout: 'infinity' }), 'pong', "'infinity' is a valid timeout");
});
