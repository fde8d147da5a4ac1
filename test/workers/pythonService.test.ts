/**
 * pythonService (issue 12): one declaration of "the Python service", backed by a pool, a single
 * bridge or an in-process fake, all behind `Service.run(runtime, name, op, args, { session })`.
 * The backend is chosen when the service starts — the `backend` option, else `XOTP_BACKEND`,
 * else 'pool' — logged once, reported by `Service.status`, and never silently replaced: a caller
 * expecting another backend gets ServiceBackendError. The fake has the pool's session semantics.
 */
import test from 'ava';
import { createTestRuntime, type TestRuntime } from '../../src/testing/index.js';
import {
  pythonService,
  Service,
  ServiceBackendError,
  InvalidOptionError,
  PythonError,
  SessionExpiredError,
  SessionsDisabledError,
  StartError,
  TimeoutError,
  AbortError,
  NotSerializableError,
  type PythonServiceOptions,
  type FakeCallContext,
} from '../../src/index.js';
import { EXAMPLES, rejectionOf, track } from '../helpers/bridge.js';
import { withBackendEnv } from '../helpers/backendEnv.js';


const fakeHandlers = {
  echo: (args: unknown) => args,
  remember: (args: { key: string; value: unknown }, ctx: FakeCallContext) => {
    ctx.state![args.key] = args.value;
    return Object.keys(ctx.state!).sort();
  },
  recall: (_args: unknown, ctx: FakeCallContext) => ({ session: ctx.session, keys: ctx.state ? Object.keys(ctx.state).sort() : null }),
  fail: () => {
    throw new RangeError('out of range');
  },
  forever: (_args: unknown, ctx: FakeCallContext) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped')))),
};

const config = (extra: Partial<PythonServiceOptions> = {}): PythonServiceOptions => ({
  name: 'py',
  bridge: { module: EXAMPLES },
  pool: { size: 1, sessions: { ttl: 1000 } },
  fake: { handlers: fakeHandlers },
  ...extra,
});

/** Why the service's supervisor failed to start: the error its `service` child's init threw. */
function startCause(err: unknown): unknown {
  return ((err as StartError).reason as { shutdown?: { reason?: unknown } }).shutdown?.reason;
}

async function start(rt: TestRuntime, options: PythonServiceOptions) {
  const pid = await rt.start(pythonService(options));
  if (pid === 'ignore') throw new Error('ignored');
  return pid;
}

test.serial('precedence: the backend option beats XOTP_BACKEND; reported in status and logged once with the reason', async (t) => {
  await withBackendEnv('pool', async () => {
    await using rt = createTestRuntime();
    await start(rt, config({ backend: 'fake' }));
    t.is(Service.backend(rt, 'py'), 'fake');
    const status = await Service.status(rt, 'py');
    t.like(status, { name: 'py', backend: 'fake', chosenBy: 'option', reason: 'the backend option', target: 'py.fake', running: true });
    t.deepEqual(status.fake, { handlers: ['echo', 'fail', 'forever', 'recall', 'remember'], calls: 0, errors: 0, sessions: { ttl: 1000, bound: 0, expired: 0, lost: 0 } });
    t.deepEqual(
      rt.logs.at('info').filter((r) => r.message.startsWith("service 'py'")).map((r) => r.message),
      ["service 'py': backend 'fake' (chosen by the backend option)"],
    );
  });
});

test.serial('precedence: XOTP_BACKEND, read when the service starts (not when it is defined), beats the default', async (t) => {
  const logic = pythonService(config());
  await withBackendEnv('fake', async () => {
    await using rt = createTestRuntime();
    await rt.start(logic);
    t.like(await Service.status(rt, 'py'), { backend: 'fake', chosenBy: 'environment', reason: 'XOTP_BACKEND=fake' });
    t.true(rt.logs.at('info').some((r) => r.message === "service 'py': backend 'fake' (chosen by XOTP_BACKEND=fake)"));
  });
});

test.serial("precedence: with neither, the default 'pool' runs, and is a real pool under '<name>.pool'", async (t) => {
  await withBackendEnv(undefined, async () => {
    await using rt = createTestRuntime();
    await start(rt, config());
    const status = await Service.status(rt, 'py');
    t.like(status, { backend: 'pool', chosenBy: 'default', reason: 'the default', target: 'py.pool', running: true });
    t.is(status.pool!.name, 'py.pool');
    t.deepEqual(await Service.run(rt, 'py', 'echo', { n: 1 }), { n: 1 });
    const a = await Service.run<{ session: string }>(rt, 'py', 'list_programs', {}, { session: 's1' });
    t.is(a.session, 's1', 'the pool passes the session to Python');
  });
});

test.serial('the bridge backend: one Python process under <name>.bridge, sessions passed to its handlers', async (t) => {
  await withBackendEnv(undefined, async () => {
    await using rt = createTestRuntime();
    await start(rt, config({ backend: 'bridge' }));
    const status = await Service.status(rt, 'py');
    t.like(status, { backend: 'bridge', target: 'py.bridge', running: true });
    t.is(status.bridge!.state, 'ready');
    await Service.run(rt, 'py', 'create_program', { id: 'x', signature: {} }, { session: 'a' });
    t.deepEqual((await Service.run<{ programs: string[] }>(rt, 'py', 'list_programs', {}, { session: 'b' })).programs, []);
    t.true(await Service.endSession(rt, 'py', 'a'));
    t.deepEqual((await Service.run<{ programs: string[] }>(rt, 'py', 'list_programs', {}, { session: 'a' })).programs, []);
  });
});

test.serial('asking for a backend that is not the one running is a typed error naming both, never another backend answering', async (t) => {
  await using rt = createTestRuntime();
  await start(rt, config({ backend: 'fake' }));
  const err = await rejectionOf(Service.run(rt, 'py', 'echo', 1, { backend: 'pool' }));
  t.true(err instanceof ServiceBackendError);
  t.like(err, { code: 'backend_not_running', service: 'py', expected: 'pool', running: 'fake' });
  t.is((err as Error).message, "service 'py' expected backend 'pool' but 'fake' is running (chosen by the backend option)");
  t.throws(() => Service.expect(rt, 'py', 'bridge'), { instanceOf: ServiceBackendError, message: /expected backend 'bridge' but 'fake' is running/ });
  t.notThrows(() => Service.expect(rt, 'py', 'fake'));
  t.is(await Service.run(rt, 'py', 'echo', 1, { backend: 'fake' }), 1);
  const none = await rejectionOf(Service.run(rt, 'nope', 'echo', 1, { backend: 'pool' }));
  t.like(none, { code: 'backend_not_running', expected: 'pool', running: null });
  t.regex((none as Error).message, /^service 'nope' expected backend 'pool' but nothing is running/);
  await t.throwsAsync(Service.status(rt, 'nope'), { instanceOf: ServiceBackendError });
});

test.serial('a chosen backend that is not configured, or an XOTP_BACKEND that names none, fails the start with InvalidOptionError', async (t) => {
  await withBackendEnv('bridge', async () => {
    await using rt = createTestRuntime();
    const err = await rejectionOf(rt.start(pythonService({ name: 'py', fake: { handlers: fakeHandlers } })));
    t.true(err instanceof StartError);
    const cause = startCause(err);
    t.true(cause instanceof InvalidOptionError);
    t.like(cause, { key: 'pythonService.bridge' });
    t.regex((cause as Error).message, /chosen by XOTP_BACKEND=bridge\); service 'py' configures: 'fake'/);
  });
  await withBackendEnv('mock', async () => {
    await using rt = createTestRuntime();
    const cause = startCause(await rejectionOf(rt.start(pythonService(config()))));
    t.like(cause, { key: 'XOTP_BACKEND', received: 'mock' });
  });
});

test('options are checked when the service is defined', (t) => {
  t.throws(() => pythonService({ name: 'py' }), { instanceOf: InvalidOptionError, message: /at least one backend/ });
  t.throws(() => pythonService({ name: 'py', pool: { size: 1 } }), { instanceOf: InvalidOptionError, message: /pythonService\.pool\.worker/ });
  t.throws(() => pythonService({ name: 'py', backend: 'mock' as 'fake', fake: { handlers: {} } }), { instanceOf: InvalidOptionError, message: /pythonService\.backend/ });
  // Regression: a bad option inside a backend was named by the factory's key (fakeBackend.…,
  // pool.…, pythonBridge.…), not where the service's options hold it.
  t.is(t.throws(() => pythonService({ name: 'py', fake: { handlers: { a: 1 as unknown as () => void } } }), { instanceOf: InvalidOptionError })?.key, 'pythonService.fake.handlers.a');
  t.is(t.throws(() => pythonService({ name: 'py', bridge: { module: 'm' }, pool: { size: 1, sesions: {} } as never }), { instanceOf: InvalidOptionError })?.key, 'pythonService.pool.sesions');
  t.is(t.throws(() => pythonService({ name: 'py', bridge: { module: 'm', calTimeout: 5 } as never }), { instanceOf: InvalidOptionError })?.key, 'pythonService.bridge.calTimeout');
  t.throws(() => pythonService({ name: 'py', fake: new Map() as unknown as PythonServiceOptions['fake'] }), { instanceOf: InvalidOptionError, message: /pythonService\.fake/ });
  // Regression: a pool name of its own was accepted and silently replaced by '<name>.pool'.
  t.is(t.throws(() => pythonService({ name: 'py', bridge: { module: 'm' }, pool: { name: 'x', size: 1 } as never }), { instanceOf: InvalidOptionError })?.key, 'pythonService.pool.name');
});

test.serial('regression: Service.run checked only timeout, session and signal on the fake and bridge backends — every option is checked, naming Service.run.<key>', async (t) => {
  await using rt = createTestRuntime();
  await start(rt, config({ backend: 'fake' }));
  for (const [options, key] of [
    [{ timout: 5 }, 'Service.run.timout'],
    [new Map([['timeout', 1]]), 'Service.run'],
    [[], 'Service.run'],
    [{ retry: { maxAttempts: Number.NaN } }, 'Service.run.retry.maxAttempts'],
    [{ checkoutTimeout: Number.NaN }, 'Service.run.checkoutTimeout'],
    [{ idempotent: 'yes' }, 'Service.run.idempotent'],
    [{ backend: 'gpu' }, 'Service.run.backend'],
  ] as const) {
    const err = await rejectionOf(Service.run(rt, 'py', 'echo', 1, options as never));
    t.true(err instanceof InvalidOptionError, `${key}: ${String(err)}`);
    t.is((err as InvalidOptionError).key, key);
  }
  t.is(await Service.run(rt, 'py', 'echo', 1, { retry: true, idempotent: true, checkoutTimeout: 10 }), 1, 'pool-only options are ignored here, not refused');
  t.is(await Service.run(rt, 'py', 'echo', 2), 2);
  const notJson = await rejectionOf(Service.run(rt, 'py', 'echo', { n: 10n }));
  t.true(notJson instanceof NotSerializableError, `a BigInt in the args, as over the bridge's pipe: ${String(notJson)}`);
});

test.serial("regression: the fake had no default deadline — a call naming no timeout gets the bridge's callTimeout (its default 30000 without one)", async (t) => {
  await using rt = createTestRuntime();
  await start(rt, config({ backend: 'fake', bridge: { module: EXAMPLES, callTimeout: 1000 } }));
  const slow = track(Service.run(rt, 'py', 'forever', null));
  await rt.advance(999);
  t.is(slow.state, 'pending');
  await rt.advance(1);
  t.true(slow.error instanceof TimeoutError, String(slow.error));
  const controller = new AbortController();
  const unbounded = track(Service.run(rt, 'py', 'forever', null, { timeout: 'infinity', signal: controller.signal }));
  await rt.advance(60_000);
  t.is(unbounded.state, 'pending', "'infinity' still means no deadline");
  controller.abort();
  await unbounded.promise;
  t.true(unbounded.error instanceof AbortError);

  await using rt2 = createTestRuntime();
  await start(rt2, { name: 'f', backend: 'fake', fake: { handlers: fakeHandlers } });
  const fakeOnly = track(Service.run(rt2, 'f', 'forever', null));
  await rt2.advance(30_000);
  t.true(fakeOnly.error instanceof TimeoutError, 'no bridge: the bridge default');
});

test.serial('the fake: args and results through JSON, errors as a pool gives them, sessions with private state, TTL and end', async (t) => {
  await using rt = createTestRuntime();
  await start(rt, config({ backend: 'fake' }));
  t.deepEqual(await Service.run(rt, 'py', 'echo', { d: new Date(0), u: undefined }), { d: '1970-01-01T00:00:00.000Z' });
  const raised = await rejectionOf(Service.run(rt, 'py', 'fail'));
  t.true(raised instanceof PythonError);
  t.like(raised, { code: 'python_error', type: 'RangeError', message: 'fail: RangeError: out of range' });
  t.like(await rejectionOf(Service.run(rt, 'py', 'nope')), { code: 'python_error', type: 'UnknownOperation' });
  // Sessions: private state, as ctx.state in Python.
  t.deepEqual(await Service.run(rt, 'py', 'remember', { key: 'k1', value: 1 }, { session: 'A' }), ['k1']);
  t.deepEqual(await Service.run(rt, 'py', 'recall', null, { session: 'B' }), { session: 'B', keys: [] });
  t.deepEqual(await Service.run(rt, 'py', 'recall', null), { keys: null }, 'no session: ctx.session and ctx.state are undefined');
  t.true(await Service.endSession(rt, 'py', 'A'));
  t.deepEqual(await Service.run(rt, 'py', 'recall', null, { session: 'A' }), { session: 'A', keys: [] }, 'ended: its state is gone');
  // The TTL of the pool's sessions (1000 ms), on the runtime clock.
  await Service.run(rt, 'py', 'remember', { key: 'k2', value: 2 }, { session: 'C' });
  await rt.advance(1001);
  t.true((await rejectionOf(Service.run(rt, 'py', 'recall', null, { session: 'C' }))) instanceof SessionExpiredError);
  // Deadlines on the runtime clock, and aborts.
  const slow = Service.run(rt, 'py', 'forever', null, { timeout: 500 });
  await rt.advance(500);
  t.true((await rejectionOf(slow)) instanceof TimeoutError);
  const controller = new AbortController();
  const aborted = Service.run(rt, 'py', 'forever', null, { signal: controller.signal });
  controller.abort();
  t.true((await rejectionOf(aborted)) instanceof AbortError);
  t.like((await Service.status(rt, 'py')).fake, { calls: 10, errors: 4 }, 'a call refused for its session state never ran');
});

test.serial("the fake follows the pool's session settings: a pool without sessions means a fake without them", async (t) => {
  await using rt = createTestRuntime();
  await start(rt, config({ backend: 'fake', pool: { size: 1 } }));
  t.true((await rejectionOf(Service.run(rt, 'py', 'recall', null, { session: 's' }))) instanceof SessionsDisabledError);
  t.false('sessions' in (await Service.status(rt, 'py')).fake!);
});

test.serial('service.call events: backend, op, session, duration and outcome, only while listened to', async (t) => {
  await using rt = createTestRuntime();
  await start(rt, config({ backend: 'fake' }));
  const seen: unknown[] = [];
  rt.events.on('service.call', (e) => seen.push(e));
  await Service.run(rt, 'py', 'echo', 1, { session: 's' });
  await rejectionOf(Service.run(rt, 'py', 'fail'));
  t.deepEqual(seen, [
    { service: 'py', backend: 'fake', op: 'echo', session: 's', durationMs: 0, outcome: 'ok' },
    { service: 'py', backend: 'fake', op: 'fail', session: undefined, durationMs: 0, outcome: 'error', code: 'python_error' },
  ]);
});
