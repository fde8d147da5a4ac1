/**
 * Host death (issue 9, fault injection): a child Node process hosting a pool of 4 Python workers
 * is SIGKILLed — at idle, during calls, during a slow import — and no Python process of it may
 * be alive 1 s later. The host is test/fixtures/hostProcess.ts; its workers write markers with
 * their OS pids (test/fixtures/xotp_host_worker.py), so the test never asks the host it kills.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { aliveAfter, startHost } from './hostHarness.js';

const cases = [
  { title: 'at idle', mode: 'pool-idle', env: {}, line: 'ready', marker: 'started' },
  { title: 'during calls (each worker holds a call on its only thread)', mode: 'pool-busy', env: {}, line: 'calls sent', marker: 'busy' },
  { title: 'during a slow import (20 s)', mode: 'pool-starting', env: { XOTP_FIXTURE_IMPORT_SECONDS: '20' }, line: undefined, marker: 'started' },
] as const;

for (const c of cases) {
  test.serial(`a host of a pool of 4 SIGKILLed ${c.title}: no Python process of it is alive 1 s later`, async (t) => {
    const host = startHost(c.mode, c.env);
    let pids: number[] = [];
    try {
      if (c.line !== undefined) t.is(await host.line(), c.line);
      pids = await host.markers(c.marker, 4);
      t.is(pids.length, 4);
      for (const pid of pids) t.regex(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /xotp_bridge/, `pid ${pid} is a bridge`);
      await host.kill();
      t.deepEqual(await aliveAfter(pids, 1000), []);
    } finally {
      host.cleanup(pids);
    }
  });
}
