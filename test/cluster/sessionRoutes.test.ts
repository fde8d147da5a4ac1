/**
 * A remote pool's session routes (src/cluster/sessionRoutes.ts): routes of sessions their node no
 * longer holds are retired into a bounded table, but are still found, so a session's calls never
 * move to another node. The remote behaviour is test/cluster/remotePool.
 */
import test from 'ava';
import { SessionRoutes, type SessionRoute } from '../../src/cluster/sessionRoutes.js';

/** Routes on a clock the test moves, whose nodes in `left` have gone away, sweeping from 4 live routes. */
function routes(memory = 100) {
  const clock = { now: 0 };
  const left = new Set<string>();
  const r = new SessionRoutes(() => clock.now, (route) => route.node !== undefined && left.has(route.node), { memory, sweepFloor: 4 });
  const bind = (session: string, node: string, ttl: number | undefined) => {
    const route = r.open(session, Promise.resolve());
    route.node = node;
    route.first = undefined;
    r.answered(session, route, ttl);
    return route;
  };
  return { r, clock, left, bind };
}

test('routes idle past their TTL are retired at the next sweep, and still route to their node', (t) => {
  const { r, clock, bind } = routes();
  bind('a', 'n1', 1000);
  bind('b', 'n1', 1000);
  clock.now = 500;
  bind('c', 'n2', 1000);
  clock.now = 1200;
  bind('d', 'n2', 1000); // the fourth live route: a sweep; a and b were idle 1200 ms
  t.deepEqual(r.counts(), { live: 2, retired: 2 });
  t.is(r.get('a')?.node, 'n1');
  t.is(r.get('c')?.node, 'n2');
});

test('a route without a known TTL is never retired by idleness; one whose node left is', (t) => {
  const { r, clock, left, bind } = routes();
  bind('no-ttl', 'n1', undefined);
  bind('gone', 'n2', 60_000);
  bind('x', 'n3', 60_000);
  clock.now = 10 ** 9;
  t.truthy(r.get('no-ttl'));
  clock.now = 0;
  left.add('n2');
  clock.now = 1000; // well inside the TTL: only the departure counts
  bind('y', 'n3', 60_000);
  t.deepEqual(r.counts(), { live: 3, retired: 1 });
  t.is(r.get('gone')?.node, 'n2');
  t.truthy(r.get('no-ttl'));
});

test("a session's first call in flight is never retired", (t) => {
  const { r, clock, bind } = routes();
  bind('a', 'n', 1);
  bind('b', 'n', 1);
  const pending: SessionRoute = r.open('first', new Promise<void>(() => undefined));
  clock.now = 10 ** 9;
  bind('c', 'n', 1); // the fourth: a sweep, where a and b are long idle and 'first' has no node yet
  t.deepEqual(r.counts(), { live: 2, retired: 2 });
  t.is(r.get('first'), pending);
});

test('retired routes are bounded: past the memory, the oldest half is forgotten', (t) => {
  const { r, bind } = routes(4);
  for (const s of ['a', 'b', 'c', 'd', 'e']) {
    bind(s, 'n', 1);
    r.retire(s);
  }
  t.deepEqual(r.counts(), { live: 0, retired: 3 });
  t.is(r.get('a'), undefined);
  t.is(r.get('b'), undefined);
  t.is(r.get('e')?.node, 'n');
});

test('delete forgets a route, live or retired; retire of an unknown or retired session is a no-op', (t) => {
  const { r, bind } = routes();
  bind('a', 'n', 1);
  bind('b', 'n', 1);
  r.retire('b');
  r.retire('b');
  r.retire('nobody');
  t.is(r.delete('a')?.node, 'n');
  t.is(r.delete('b')?.node, 'n');
  t.deepEqual(r.counts(), { live: 0, retired: 0 });
});

test('a retired route that answers again is live again (its node bound the session anew)', (t) => {
  const { r, bind } = routes();
  const route = bind('a', 'n', 1000);
  r.retire('a');
  t.deepEqual(r.counts(), { live: 0, retired: 1 });
  r.answered('a', route, 1000);
  t.deepEqual(r.counts(), { live: 1, retired: 0 });
  t.is(r.get('a'), route);
});
