import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { defineServer, type DownMessage } from '../../src/index.js';

// The README's short example, as written there (on a test runtime instead of createRuntime).
test('README short example: cast, call, monitor a crash, stop a dead process, shut down', async (t) => {
  const counter = defineServer({
    name: 'counter',
    init: (start: number) => ({ state: start }),
    handleCall: (req: 'get', _from, n: number) => ({ reply: n }),
    handleCast: (msg: 'inc' | 'crash', n: number) => {
      if (msg === 'crash') throw new Error('boom');
      return { state: n + 1 };
    },
  });

  const runtime = createTestRuntime({ name: 'app' });
  const pid = runtime.spawn(counter, { name: 'counter', input: 0 });
  runtime.cast('counter', 'inc');
  t.is(await runtime.call('counter', 'get'), 1);
  const downs: string[] = [];
  runtime.monitor(pid, (down: DownMessage) => downs.push(`${down.pid} exited: ${down.reason}`));
  runtime.cast(pid, 'crash');
  await runtime.flush();
  t.deepEqual(downs, ['<app.1> exited: Error: boom']);
  t.is(await runtime.stop(pid), 'noproc');
  await runtime.shutdown();
  await runtime.dispose();
});
