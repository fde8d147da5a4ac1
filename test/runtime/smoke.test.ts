import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { inboxServer, idle } from '../helpers/actors.js';

test('a test runtime spawns, links and cleans up', async (t) => {
  await using rt = createTestRuntime();
  const a = rt.spawn(inboxServer, { input: { trap: true } });
  const b = rt.spawn(idle, { link: a });
  rt.exit(b, 'boom');
  await rt.flush();
  const inbox = await rt.call(a, 'inbox');
  t.deepEqual(inbox, [{ type: 'xotp.exit', from: b, reason: 'boom' }]);
});
