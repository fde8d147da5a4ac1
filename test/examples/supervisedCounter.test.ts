import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { counter, miniSupervisor } from '../../examples/supervised-counter.js';

test('examples/supervised-counter: a crashed counter is restarted under the same name with a new pid', async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  const sup = await rt.start(miniSupervisor, { name: 'sup' });
  t.not(sup, 'ignore');
  rt.cast('counter', 'inc');
  rt.cast('counter', 'inc');
  t.is(await rt.call('counter', 'get'), 2);
  const first = rt.whereis('counter')!;
  t.is(rt.info(first)?.id, 'app/sup/counter');

  rt.cast('counter', 'crash');
  t.is(await rt.exited(first), 'noproc');
  await rt.flush();

  const second = rt.whereis('counter')!;
  t.not(second.id, first.id);
  t.is(await rt.call('counter', 'get'), 0, 'the restarted counter starts from its initial state');
  t.is(await rt.call('sup', 'restarts'), 1);
  t.is(rt.logs.at('error').length, 1, 'one crash report for the crash');
  const exits = rt.trace.exits();
  t.is(exits.length, 1);
  t.true(exits[0]!.reason instanceof Error);
});

test('examples/supervised-counter: the counter alone counts casts and answers calls', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(counter, { input: 10 });
  for (let i = 0; i < 5; i++) rt.cast(pid, 'inc');
  t.is(await rt.call(pid, 'get'), 15);
});
