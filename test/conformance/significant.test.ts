import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { supervisor, whichChildren, countChildren, terminateChild } from '../../src/index.js';
import { worker } from '../helpers/otpWorkers.js';
import { startSup, livePid, endChild } from '../helpers/supervisorConformance.js';

test('explore', async (t) => {
  await using rt = createTestRuntime();
  const log: string[] = [];
  const sup = await startSup(t, rt, supervisor({
    autoShutdown: 'any_significant',
    children: [
      { id: 'a', start: worker, input: { id: 'a', log } },
      { id: 's', start: worker, input: { id: 's', log }, restart: 'temporary', significant: true },
    ],
  }));
  const s = await livePid(rt, sup, 's');
  const supGone = rt.exited(sup);
  console.log(await endChild(rt, s, 'normal'));
  console.log(await supGone, log, rt.isAlive(sup));
  console.log(rt.trace.format());
  t.pass();
});
