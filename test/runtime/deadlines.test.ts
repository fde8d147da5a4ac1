import test from 'ava';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Deadlines } from '../../src/runtime/deadlines.js';
import { SimulatedClock } from '../../src/testing/index.js';

test('deadlines of one duration share one timer and fire in order at their own due times', (t) => {
  const clock = new SimulatedClock();
  const d = new Deadlines(clock);
  const fired: Array<[string, number]> = [];
  d.add(100, () => fired.push(['a', clock.now()]));
  clock.tick(30);
  d.add(100, () => fired.push(['b', clock.now()]));
  d.add(50, () => fired.push(['c', clock.now()]));
  t.is(clock.pending, 2, 'one timer per distinct duration');
  clock.tick(200);
  t.deepEqual(fired, [
    ['c', 80],
    ['a', 100],
    ['b', 130],
  ]);
  t.is(clock.pending, 0);
});

test('cancelling every deadline of a lane clears its timer (nothing is left for a leak check)', (t) => {
  const clock = new SimulatedClock();
  const d = new Deadlines(clock);
  const a = d.add(5000, () => t.fail());
  const b = d.add(5000, () => t.fail());
  d.cancel(b);
  t.is(clock.pending, 1);
  d.cancel(a);
  d.cancel(a);
  t.is(clock.pending, 0);
  clock.tick(10_000);
});

test('a cancelled head does not delay the next deadline, and thousands of cancelled entries are compacted', (t) => {
  const clock = new SimulatedClock();
  const d = new Deadlines(clock);
  const fired: number[] = [];
  const stuck = d.add(1000, () => fired.push(-1));
  const entries = [];
  for (let i = 0; i < 5000; i++) {
    clock.tick(0.1);
    entries.push(d.add(1000, () => fired.push(i)));
  }
  for (const e of entries.slice(0, 4999)) d.cancel(e);
  d.cancel(stuck);
  clock.tick(2000);
  t.deepEqual(fired, [4999]);
  t.is(clock.pending, 0);
});

/**
 * A clock whose handles can be unref'd, as Node's timers can: the simulated clock's timers,
 * each handle recording whether it still holds the process open.
 */
function unrefableClock() {
  const clock = new SimulatedClock();
  const handles: Array<{ id: unknown; refed: boolean; ref(): void; unref(): void }> = [];
  return {
    clock,
    handles,
    setTimeout(fn: (...args: unknown[]) => void, ms: number) {
      const h = {
        id: clock.setTimeout(fn, ms),
        refed: true,
        ref() {
          h.refed = true;
        },
        unref() {
          h.refed = false;
        },
      };
      handles.push(h);
      return h;
    },
    clearTimeout(handle: unknown) {
      clock.clearTimeout((handle as { id: unknown }).id);
    },
    now: () => clock.now(),
  };
}

test('regression: each sequential call made and cleared a timer — with unref-able handles a lane keeps its timer, unref\'d while idle', (t) => {
  const c = unrefableClock();
  const d = new Deadlines(c);
  for (let i = 0; i < 100; i++) {
    const x = d.add(5000, () => t.fail());
    t.true(c.handles[0]!.refed, 'a live deadline holds the process open');
    c.clock.tick(1);
    d.cancel(x);
    t.false(c.handles[0]!.refed, 'an idle lane does not');
  }
  t.is(c.handles.length, 1, 'one timer for 100 calls');
  t.is(c.clock.pending, 1);
});

test('a deadline taken over by an idle lane fires at its own due time; an idle lane whose timer fires goes away', (t) => {
  const c = unrefableClock();
  const d = new Deadlines(c);
  const fired: number[] = [];
  d.cancel(d.add(1000, () => t.fail())); // idle lane, timer due at 1000
  c.clock.tick(600);
  d.add(1000, () => fired.push(c.clock.now())); // due at 1600
  c.clock.tick(400); // the old timer fires early: re-armed for 1600
  t.deepEqual(fired, []);
  t.is(c.handles.length, 2);
  t.true(c.handles[1]!.refed);
  c.clock.tick(600);
  t.deepEqual(fired, [1600]);
  t.is(c.clock.pending, 0, 'nothing live: no timer left');
  d.cancel(d.add(1000, () => t.fail())); // idle again
  t.is(c.clock.pending, 1);
  c.clock.tick(1000); // its timer fires with nothing due
  t.is(c.clock.pending, 0, 'the idle lane went away');
  d.add(1000, () => fired.push(c.clock.now()));
  c.clock.tick(1000);
  t.deepEqual(fired, [1600, 3600], 'a new lane after it works as before');
});

test('handles without unref (the simulated clock) are cleared as soon as a lane has nothing live', (t) => {
  const clock = new SimulatedClock();
  const d = new Deadlines(clock);
  d.cancel(d.add(5000, () => t.fail()));
  t.is(clock.pending, 0);
});

test('regression: an idle lane kept its timer (and its owner) alive until it fired, an hour later for an hour-long timeout — release() clears idle lanes, live ones stay', (t) => {
  const c = unrefableClock();
  const d = new Deadlines(c);
  const fired: number[] = [];
  d.cancel(d.add(3_600_000, () => t.fail())); // idle
  d.add(1000, () => fired.push(c.clock.now())); // live
  t.is(c.clock.pending, 2);
  d.release();
  t.is(c.clock.pending, 1, 'the idle lane timer is gone');
  c.clock.tick(1000);
  t.deepEqual(fired, [1000], 'the live deadline still fires');
  t.is(c.clock.pending, 0);
  d.add(3_600_000, () => fired.push(c.clock.now()));
  c.clock.tick(3_600_000);
  t.deepEqual(fired, [1000, 3_601_000], 'the duration works again after a release');
});

/**
 * A full collection, after the current job: `gc` comes from a fresh context once the flag is set,
 * and a `WeakRef` keeps its target until the job that made or read it ends.
 */
async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

test('regression: a cancelled deadline kept its callback (and what the call behind it held) until the head of its lane passed it', async (t) => {
  // 64 calls in flight keep a lane's queue from emptying: each cancelled entry waited behind the
  // oldest live one, with its callback, its pending call and the caller's promise, and 630 B of
  // every call survived a scavenge. A full collection shows it: the payload must be gone.
  const clock = new SimulatedClock();
  const d = new Deadlines(clock);
  const head = d.add(1000, () => {});
  let payload: { bytes: number[] } | undefined = { bytes: new Array<number>(1000).fill(1) };
  const watched = new WeakRef(payload);
  const cancelled = d.add(1000, ((held: object) => () => t.fail(`fired for ${String(held)}`))(payload));
  payload = undefined;
  d.cancel(cancelled);
  await collectGarbage();
  t.is(watched.deref(), undefined);
  d.cancel(head);
  t.is(clock.pending, 0);
});

test('regression: an expired deadline kept its callback until its lane emptied', async (t) => {
  const clock = new SimulatedClock();
  const d = new Deadlines(clock);
  let payload: object | undefined = { bytes: new Array<number>(1000).fill(1) };
  const watched = new WeakRef(payload);
  let fired = 0;
  d.add(1000, ((held: object) => () => void (fired += held ? 1 : 0))(payload));
  payload = undefined;
  clock.tick(500);
  // Same lane, still live after the first fires: the lane's queue is not dropped.
  const later = d.add(1000, () => {});
  clock.tick(500);
  t.is(fired, 1);
  await collectGarbage();
  t.is(watched.deref(), undefined);
  d.cancel(later);
  t.is(clock.pending, 0);
});
