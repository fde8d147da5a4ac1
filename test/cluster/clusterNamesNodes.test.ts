/**
 * Cluster names with two child Node processes and one real `nats-server` (issue 16's "Done
 * when"): a race for one name has one winner; kill -9 of the owner moves the name to the
 * survivor with no moment of two owners and no Python process left behind; SIGSTOP of the
 * owner past its lease, then SIGCONT, makes it stand down.
 *
 * Each node holds the name for a real Python bridge and reports, with the machine's wall clock
 * (shared by the test and both nodes), when it gained and lost the name. Everything is waited
 * for through the nodes' reports and process exits; the only polling is for Python processes
 * of a dead node to vanish (no event tells us), under a generous deadline that is not a
 * measure of speed. The takeover time is logged, not asserted.
 */
import test, { type ExecutionContext } from 'ava';
import { fileURLToPath } from 'node:url';
import { exited, natsServer, startNats } from './natsServer.js';
import { ChildNode } from './childNode.js';
import { pythonOf, until } from '../examples/childProcess.js';

const fixture = fileURLToPath(new URL('./fixtures/namesNode.ts', import.meta.url));
const lease = { leaseMs: 2000, renewMs: 400, marginMs: 300 };

interface PidJson {
  node: string;
  id: number;
  creation?: number;
}

interface Line {
  id?: number;
  ok?: boolean;
  value?: PidJson | null;
  at?: number;
  error?: { code?: string; owner?: PidJson | null };
  ready?: PidJson;
  event?: 'gained' | 'lost' | 'bridgeDown' | 'claimFailed';
  reason?: unknown;
  heldUntil?: number;
  attempts?: number;
  replaced?: { pid: PidJson; expiresAt: number } | null;
}

/** A child node running the names fixture, with what its reports say about holding the name. */
class NamesNode extends ChildNode<Line> {
  constructor(name: string, url: string) {
    super(name, fixture, [name, url, String(lease.leaseMs), String(lease.renewMs), String(lease.marginMs)]);
  }

  event(name: NonNullable<Line['event']>): Promise<Line> {
    return this.next((l) => l.event === name);
  }

  /** [gained, lost] intervals from this node's reports; an open one ends at `end`. */
  intervals(end: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let from: number | undefined;
    for (const l of this.lines) {
      if ((l.event === 'gained' || (l.id !== undefined && l.ok === true && l.at !== undefined)) && from === undefined) from = l.at!;
      if (l.event === 'lost' && from !== undefined) {
        out.push([from, l.heldUntil!]);
        from = undefined;
      }
    }
    if (from !== undefined) out.push([from, end]);
    return out;
  }
}

const natsTest = natsServer === undefined ? test.skip : test;

async function twoNodes(t: ExecutionContext): Promise<{ a: NamesNode; b: NamesNode; bridgeA: PidJson; bridgeB: PidJson }> {
  t.timeout(60_000);
  const url = await startNats(t, natsServer!);
  const a = new NamesNode('alpha', url);
  const b = new NamesNode('beta', url);
  t.teardown(async () => {
    for (const n of [a, b]) {
      if (n.child.exitCode === null && n.child.signalCode === null) {
        n.child.kill('SIGCONT');
        n.child.kill('SIGKILL');
      }
      await exited(n.child);
    }
    // A killed node's Python notices its closed pipe and exits: wait for that, so none is left.
    await until(() => pythonOf(a.child.pid!).length + pythonOf(b.child.pid!).length === 0, 20_000, 'the nodes’ Python processes to exit');
  });
  const [ra, rb] = await Promise.all([a.next((l) => l.ready !== undefined), b.next((l) => l.ready !== undefined)]);
  // Each node's bridge is ready: its Python process is running.
  t.is(pythonOf(a.child.pid!).length, 1);
  t.is(pythonOf(b.child.pid!).length, 1);
  return { a, b, bridgeA: ra.ready!, bridgeB: rb.ready! };
}

/** No two nodes' ownership intervals overlap (touching is not overlapping). */
function assertNoOverlap(t: ExecutionContext, intervals: Array<[string, number, number]>): void {
  const sorted = [...intervals].sort((x, y) => x[1] - y[1]);
  for (let i = 1; i < sorted.length; i++) {
    const [prevNode, , prevEnd] = sorted[i - 1]!;
    const [node, start] = sorted[i]!;
    t.true(prevEnd <= start, `${prevNode} held the name until ${prevEnd}, ${node} from ${start}: two owners for ${prevEnd - start} ms`);
  }
}

async function quit(t: ExecutionContext, n: NamesNode): Promise<void> {
  t.like(await n.command('quit'), { ok: true });
  await exited(n.child);
  t.is(n.child.exitCode, 0);
}

natsTest('two nodes race for one unique name: exactly one wins, the other is told the winner, and both views agree', async (t) => {
  const { a, b, bridgeA, bridgeB } = await twoNodes(t);
  const [ra, rb] = await Promise.all([a.command('register'), b.command('register')]);
  const winners = [ra, rb].filter((r) => r.ok === true);
  const losers = [ra, rb].filter((r) => r.ok === false);
  t.is(winners.length, 1);
  t.is(losers.length, 1);
  t.is(losers[0]!.error?.code, 'already_registered');
  const winner = ra.ok === true ? bridgeA : bridgeB;
  t.deepEqual(losers[0]!.error?.owner, winner);
  t.deepEqual((await a.command('whereis')).value, winner);
  t.deepEqual((await b.command('whereis')).value, winner);
  await quit(t, a);
  await quit(t, b);
});

natsTest('kill -9 of the owner moves the name to the waiting node after the lease, never two owners, no Python left behind', async (t) => {
  const { a, b, bridgeA, bridgeB } = await twoNodes(t);
  t.like(await a.command('claim'), { ok: true });
  await a.event('gained');
  // beta stands by: its claim fails now and waits for alpha's lease to end.
  t.like(await b.command('register'), { ok: false, error: { code: 'already_registered', owner: bridgeA } });
  t.like(await b.command('claim'), { ok: true });

  a.child.kill('SIGKILL');
  await exited(a.child);
  const killedAt = a.exitedAt!;
  const gained = await b.event('gained');
  // alpha's Python saw its pipe close and exited: nothing of the dead owner is left running.
  await until(() => pythonOf(a.child.pid!).length === 0, 20_000, "alpha's Python process to exit");

  t.deepEqual(gained.replaced?.pid, bridgeA, "beta took over alpha's lease (it was never deleted: alpha died)");
  t.true(gained.at! >= gained.replaced!.expiresAt + lease.marginMs, 'not before the lease and its margin ran out');
  assertNoOverlap(t, [
    ...a.intervals(killedAt).map(([s, e]): [string, number, number] => ['alpha', s, e]),
    ...b.intervals(Date.now()).map(([s, e]): [string, number, number] => ['beta', s, e]),
  ]);
  t.is(a.intervals(killedAt).length, 1);
  t.is(b.intervals(Date.now()).length, 1);
  t.deepEqual((await b.command('whereis')).value, bridgeB);
  t.log(`takeover ${gained.at! - killedAt} ms after the kill (lease ${lease.leaseMs} + renewal ${lease.renewMs} = ${lease.leaseMs + lease.renewMs} ms; claim attempts ${gained.attempts})`);
  await quit(t, b);
});

natsTest('SIGSTOP of the owner past its lease, then SIGCONT: the other node has taken over and the old owner stands down, never two owners', async (t) => {
  const { a, b, bridgeA, bridgeB } = await twoNodes(t);
  t.like(await a.command('claim'), { ok: true });
  await a.event('gained');
  t.like(await b.command('register'), { ok: false, error: { code: 'already_registered', owner: bridgeA } });
  t.like(await b.command('claim'), { ok: true });

  a.child.kill('SIGSTOP');
  const gained = await b.event('gained');
  a.child.kill('SIGCONT');
  const [lost, down] = await Promise.all([a.event('lost'), a.event('bridgeDown')]);
  await until(() => pythonOf(a.child.pid!).length === 0, 20_000, "alpha's stood-down Python process to exit");

  t.is(lost.reason, 'lease_expired');
  t.is(down.reason, 'killed', 'the old owner stopped what it held');
  t.true(lost.at! > gained.at!, 'alpha was stopped past the moment beta took over: it stood down only after SIGCONT');
  t.true(lost.heldUntil! <= gained.at!, "alpha's hold ended (its own lease) before beta's began");
  t.deepEqual(gained.replaced?.pid, bridgeA);
  assertNoOverlap(t, [
    ...a.intervals(Date.now()).map(([s, e]): [string, number, number] => ['alpha', s, e]),
    ...b.intervals(Date.now()).map(([s, e]): [string, number, number] => ['beta', s, e]),
  ]);
  // After standing down alpha never wrote the name again: both views show beta's bridge.
  t.deepEqual((await a.command('whereis')).value, bridgeB);
  t.deepEqual((await b.command('whereis')).value, bridgeB);
  t.is(pythonOf(b.child.pid!).length, 1);
  t.log(`takeover ${gained.at! - lost.heldUntil!} ms after alpha's lease ended; alpha stood down ${lost.at! - gained.at!} ms after beta took over`);
  await quit(t, a);
  await quit(t, b);
});
