/**
 * Seed errors 1, 5, 12, 19, 22, 23–28, 33 (seed-system §2.1, §2.7, §3.6–3.7): the seed's test
 * modes picked a backend silently — `TEST_MODE` plus `pooling_enabled` started the pool where a
 * test expected the single bridge (23–28: `:bridge_not_running`), the adapter registry answered
 * PythonPoolV2 where a test expected PythonPort (12), BridgeMock was never started (1), the
 * PoolSupervisor was not running for a lazy-pool test (19). Their root cause is the backend
 * choice, so that is what is pinned here: it is explicit (option → XOTP_BACKEND → 'pool'),
 * reported, and a caller that expects another backend gets ServiceBackendError naming what it
 * expected and what runs — never a silent fallback.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  pythonService,
  Service,
  ServiceBackendError,
  BridgeNotRunningError,
  NoProcessError,
  callBridge,
  Pool,
  type PythonServiceOptions,
} from '../../src/index.js';
import { EXAMPLES, rejectionOf } from '../helpers/bridge.js';
import { withBackendEnv } from '../helpers/backendEnv.js';


const handlers = { ping: () => ({ status: 'ok' }) };
const service = (extra: Partial<PythonServiceOptions> = {}): PythonServiceOptions => ({
  name: 'py',
  bridge: { module: EXAMPLES },
  pool: { size: 1, lazy: true, sessions: { ttl: 60_000 } },
  fake: { handlers },
  ...extra,
});

test.serial('seed error 1: a test expecting the mock (fake) backend when none was started gets ServiceBackendError "nothing is running", not a noproc crash', async (t) => {
  await using rt = createTestRuntime();
  const err = await rejectionOf(Service.run(rt, 'py', 'ping', {}, { backend: 'fake' }));
  t.true(err instanceof ServiceBackendError);
  t.like(err, { code: 'backend_not_running', service: 'py', expected: 'fake', running: null });
  t.regex((err as Error).message, /^service 'py' expected backend 'fake' but nothing is running/);
  t.throws(() => Service.expect(rt, 'py', 'fake'), { instanceOf: ServiceBackendError });
});

test.serial('seed error 12: the backend is the one asked for — the option beats XOTP_BACKEND, which beats the default — and status says which and why', async (t) => {
  await withBackendEnv('pool', async () => {
    await using rt = createTestRuntime();
    await rt.start(pythonService(service({ backend: 'fake' })));
    t.like(await Service.status(rt, 'py'), { backend: 'fake', chosenBy: 'option', reason: 'the backend option', running: true });
    // The seed's assertion `get_adapter() == PythonPort` when another adapter ran: a typed error.
    const err = await rejectionOf(Service.run(rt, 'py', 'ping', {}, { backend: 'bridge' }));
    t.like(err, { code: 'backend_not_running', expected: 'bridge', running: 'fake' });
  });
  await withBackendEnv('fake', async () => {
    await using rt = createTestRuntime();
    await rt.start(pythonService(service()));
    t.like(await Service.status(rt, 'py'), { backend: 'fake', chosenBy: 'environment', reason: 'XOTP_BACKEND=fake' });
    t.deepEqual(rt.logs.at('info').filter((r) => r.message.startsWith("service 'py'")).map((r) => r.message), ["service 'py': backend 'fake' (chosen by XOTP_BACKEND=fake)"]);
  });
});

test.serial("seed error 19: a lazy pool asked for while the bridge backend runs is a typed error naming both; chosen, the lazy pool serves", async (t) => {
  await withBackendEnv('bridge', async () => {
    await using rt = createTestRuntime();
    await rt.start(pythonService(service()));
    const err = await rejectionOf(Service.run(rt, 'py', 'echo', 1, { backend: 'pool' }));
    t.like(err, { code: 'backend_not_running', expected: 'pool', running: 'bridge' });
    t.regex((err as Error).message, /chosen by XOTP_BACKEND=bridge/);
    t.true((await rejectionOf(Pool.status(rt, 'py.pool'))) instanceof NoProcessError, 'no pool runs behind the scenes either');
  });
  await withBackendEnv(undefined, async () => {
    await using rt = createTestRuntime();
    await rt.start(pythonService(service()));
    t.like((await Service.status(rt, 'py')).pool, { name: 'py.pool', ready: 0, starting: 0 }, 'lazy: no worker until a caller needs one');
    t.is(await Service.run(rt, 'py', 'echo', 'lazy', { backend: 'pool' }), 'lazy');
  });
});

test.serial('seed errors 23–28: asking for the single bridge while the pool runs is ServiceBackendError naming the pool; the bridge itself answers BridgeNotRunningError', async (t) => {
  await withBackendEnv(undefined, async () => {
    await using rt = createTestRuntime();
    await rt.start(pythonService(service()));
    const err = await rejectionOf(Service.run(rt, 'py', 'echo', 1, { backend: 'bridge' }));
    t.like(err, { code: 'backend_not_running', expected: 'bridge', running: 'pool' });
    t.is((err as Error).message, "service 'py' expected backend 'bridge' but 'pool' is running (chosen by the default)");
    // What the seed's Bridge.call returned, as a typed error with its own code.
    t.true((await rejectionOf(callBridge(rt, 'py.bridge', 'echo', 1))) instanceof BridgeNotRunningError);
  });
});

test.serial('seed errors 23–28: with the bridge chosen, it has finished its handshake when the service has started: the first call answers', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(pythonService(service({ backend: 'bridge' })));
  t.is((await Service.status(rt, 'py')).bridge!.state, 'ready');
  t.is(await Service.run(rt, 'py', 'echo', 'first', { backend: 'bridge' }), 'first');
});

test.serial('seed error 5: a service stopped (twice) is gone cleanly: stop resolves, calls get ServiceBackendError, never an exit', async (t) => {
  await using rt = createTestRuntime();
  const sup = await rt.start(pythonService(service({ backend: 'fake' })));
  if (sup === 'ignore') throw new Error('ignored');
  t.is(await rt.stop(sup), 'ok');
  t.is(await rt.stop(sup), 'noproc');
  t.like(await rejectionOf(Service.run(rt, 'py', 'ping')), { code: 'backend_not_running', running: null });
});
