import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { supervisor } from '../../src/index.js';
import { workerSpec, startSup, livePid, terminate, exitReason, counts, rows } from '../helpers/otpSupervisorHelpers.js';

test('scratch', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ strategy: 'one_for_one', maxRestarts: 2, maxSeconds: 3600, children: [workerSpec('child1'), workerSpec('child2')] }));
  const p1 = await livePid(rt, sup, 'child1');
  await terminate(rt, p1);
  console.log(exitReason(rt, p1), await counts(rt, sup), await rows(rt, sup));
  rt.cast(await livePid(rt, sup, 'child1'), 'crash');
  await rt.flush();
  await terminate(rt, await livePid(rt, sup, 'child2'));
  console.log(exitReason(rt, sup));
  console.log(rt.trace.format());
  t.pass();
});
