/**
 * A supervisor that cannot start its children fails with OTP's reason, `{ shutdown: {
 * failedToStartChild, reason } }`: StartError keeps it as `reason`, and its message and `cause`
 * say what the child's init actually failed with.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { defineServer, InvalidOptionError, pythonService, StartError, supervisor } from '../../src/index.js';

const failing = defineServer({
  init: () => {
    throw new RangeError('nope-detail');
  },
});

test("regression: a child's init error showed as {} in the supervisor's StartError and was only reachable at reason.shutdown.reason — the message names it and it is the cause", async (t) => {
  await using rt = createTestRuntime();
  const inner = supervisor({ children: [{ id: 'b', start: failing }] });
  const err = await t.throwsAsync(rt.start(supervisor({ children: [{ id: 'inner', start: inner, type: 'supervisor' }] })), { instanceOf: StartError });
  t.regex(err!.message, /RangeError: nope-detail/);
  t.true(err!.cause instanceof RangeError, 'the cause is the child init error, through two supervisors');
  t.like(err!.reason, { shutdown: { failedToStartChild: 'inner' } }, "the reason stays OTP's");
});

test("a pythonService whose chosen backend is not configured: StartError whose cause is the InvalidOptionError naming it", async (t) => {
  await using rt = createTestRuntime();
  const err = await t.throwsAsync(rt.start(pythonService({ name: 's', fake: { handlers: {} }, backend: 'pool' })), { instanceOf: StartError });
  t.true(err!.cause instanceof InvalidOptionError);
  t.is((err!.cause as InvalidOptionError).key, 'pythonService.pool');
});
