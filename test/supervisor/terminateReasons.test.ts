/**
 * What a supervisor records when it terminates a child (supervisor.erl's shutdown/2 and
 * unlink_flush/2): the child's own reason when it was already dead, and a real shutdown signal
 * for a child that lives on another node.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { MemoryNetwork, supervisor, terminateChild, whichChildren, type ChildSpec, type Pid } from '../../src/index.js';
import { idle } from '../helpers/actors.js';
import { livePid, startSup, workerSpec } from '../helpers/otpSupervisorHelpers.js';

for (const [shutdown, errors] of [
  ['brutal_kill', []],
  [1000, [['b', 'killed']]],
] as const) {
  test(`regression: a child already dead when its terminate step began was reported as noproc, not its own reason (shutdown ${shutdown})`, async (t) => {
    await using rt = createTestRuntime();
    const sup = await startSup(rt, supervisor({ children: [workerSpec('a'), workerSpec('b', { shutdown }), workerSpec('c', { shutdown: 'brutal_kill' })] }), 'top');
    const b = await livePid(rt, sup, 'b');
    const c = await livePid(rt, sup, 'c');
    // Killing c (the first terminated) kills b through this link, within the same step: b's
    // EXIT reaches the supervisor before the DOWN of a monitor set on a dead process (noproc).
    rt.link(c, b);
    await rt.stop(sup, 'shutdown');
    t.deepEqual(rt.trace.exits().filter((e) => e.pid.id === b.id).map((e) => e.reason), ['killed']);
    // supervisor.erl's unlink_flush(Pid, noproc) takes the reason from the EXIT: killed is what
    // brutal_kill expects; a timed shutdown expects shutdown and reports killed.
    t.deepEqual(
      rt.trace.of('supervisor.shutdownError').map((e) => [e.pid.id === b.id ? 'b' : String(e.pid), e.reason]),
      errors as unknown as Array<[string, string]>,
    );
  });
}

for (const shutdown of ['brutal_kill', 1000] as const) {
  test(`regression: terminating a child that lives on another node sent it no exit signal and waited for its DOWN forever (shutdown ${shutdown})`, async (t) => {
    const net = new MemoryNetwork();
    await using a = createTestRuntime({ name: 'a', transport: net });
    await using b = createTestRuntime({ name: 'b', transport: net });
    const far: ChildSpec = {
      id: 'far',
      restart: 'transient',
      shutdown,
      start: ({ supervisor: sup }) => {
        const pid = b.spawn(idle);
        a.link(sup, pid);
        return pid;
      },
    };
    const sup = await startSup(a, supervisor({ children: [far] }), 'top');
    await b.flush();
    await a.flush();
    const pid = (await whichChildren(a, sup))[0]!.pid as Pid;
    t.is(pid.node, 'b');
    let result: unknown;
    void terminateChild(a, sup, 'far').then((r) => (result = r));
    // Remote messages travel on microtasks: a few rounds of both runtimes carry the signal,
    // the DOWN and the reply (the old code never sent the signal, so nothing ever came).
    for (let i = 0; i < 10 && result === undefined; i++) {
      await a.flush();
      await b.flush();
    }
    t.false(b.isAlive(pid));
    t.is(b.trace.exits().find((e) => e.pid.id === pid.id)?.reason, shutdown === 'brutal_kill' ? 'killed' : 'shutdown');
    t.deepEqual(result, { ok: true });
    t.deepEqual(await whichChildren(a, sup), [{ id: 'far', pid: undefined, type: 'worker' }]);
    t.deepEqual(a.trace.of('supervisor.shutdownError'), []);
  });
}

test('regression: a bystander that died of the same signal as the failed child was reported as noproc (the DOWN of a monitor on a dead process overtook its EXIT)', async (t) => {
  await using rt = createTestRuntime();
  const sup = await startSup(rt, supervisor({ strategy: 'one_for_all', children: [workerSpec('a'), workerSpec('b')] }), 'top');
  const a = await livePid(rt, sup, 'a');
  const b = await livePid(rt, sup, 'b');
  // x is linked to both: its death kills a, then b; the supervisor handles a's EXIT (and
  // terminates b for the group restart) while b's EXIT is still on its way.
  const x = rt.spawn(idle);
  rt.link(x, a);
  rt.link(x, b);
  rt.exit(x, 'boom');
  await rt.flush();
  t.deepEqual(rt.trace.exits().filter((e) => e.pid.id === b.id).map((e) => e.reason), ['boom']);
  // supervisor.erl: shutdown(b) gets DOWN noproc, and unlink_flush takes boom from b's EXIT.
  t.deepEqual(rt.trace.of('supervisor.shutdownError').map((e) => [e.pid.id === b.id ? 'b' : String(e.pid), e.reason]), [['b', 'boom']]);
  t.not((await livePid(rt, sup, 'b')).id, b.id);
});
