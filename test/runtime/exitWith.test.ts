import test from 'ava';
import { setup } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import { defineServer, exitWith, StartError } from '../../src/index.js';
import { recorder } from '../helpers/actors.js';

test('a machine that reaches a final state with exitWith(reason) exits with that reason', async (t) => {
  await using rt = createTestRuntime();
  const machine = setup({}).createMachine({
    id: 'quitter',
    initial: 'running',
    states: {
      running: { on: { quit: 'stopped' } },
      stopped: { type: 'final' },
    },
    output: () => exitWith({ shutdown: 'asked' }),
  });
  const inbox: unknown[] = [];
  const watcher = rt.spawn(recorder, { input: inbox, trapExit: true });
  const pid = rt.spawn(machine, { link: watcher });
  rt.send(pid, { type: 'quit' });
  t.deepEqual(rt.trace.exits().map((e) => e.reason), [{ shutdown: 'asked' }]);
  t.deepEqual(inbox, [{ type: 'xotp.exit', from: pid, reason: { shutdown: 'asked' } }]);
});

test('§5.4 decision (OTP ≥ 26): a start that fails or is ignored leaves no exit signal for the linked starter', async (t) => {
  await using rt = createTestRuntime();
  const inbox: unknown[] = [];
  const starter = rt.spawn(recorder, { input: inbox, trapExit: true });
  const failing = defineServer({ init: () => ({ stop: 'bad_config' }) });
  const ignoring = defineServer({ init: () => ({ ignore: true as const }) });
  await t.throwsAsync(rt.start(failing, { link: starter }), { instanceOf: StartError });
  t.is(await rt.start(ignoring, { link: starter }), 'ignore');
  await rt.flush();
  t.deepEqual(inbox, [], 'no xotp.exit for the failed or ignored start');
  t.deepEqual(rt.trace.exits().map((e) => e.reason), ['bad_config', 'normal']);
  t.true(rt.isAlive(starter));
});
