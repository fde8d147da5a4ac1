/** The demo's flag parsing (src/cli/demoFlags.ts): what a command line can say, and what it cannot. */
import test from 'ava';
import { parseDuration } from '../../src/cli/demoFlags.js';

test('durations: ms by default, s and m units, fractions', (t) => {
  t.is(parseDuration('--duration', '3000'), 3000);
  t.is(parseDuration('--duration', '3000ms'), 3000);
  t.is(parseDuration('--duration', '10s'), 10_000);
  t.is(parseDuration('--duration', '1m'), 60_000);
  t.is(parseDuration('--duration', '1.5s'), 1500);
});

test('regression: --duration 0.4 rounded to a 0 ms demo — a duration must be at least 1 ms once rounded', (t) => {
  for (const text of ['0.4', '0', '0ms', '0.0001s', '-5', 'soon', '']) {
    t.throws(() => parseDuration('--duration', text), { message: /--duration wants a duration of at least 1 ms/ }, text);
  }
  t.is(parseDuration('--duration', '0.6'), 1);
});
