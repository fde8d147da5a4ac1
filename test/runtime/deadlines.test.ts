import test from 'ava';
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
