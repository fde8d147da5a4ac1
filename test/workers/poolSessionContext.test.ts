/**
 * Session context in Python (seed error 14, issue 12): a handler that declares a second parameter
 * gets `ctx.session` and `ctx.state`, a dict private to its session in that process, so two
 * sessions sharing one worker never see each other's state. Ending a session (`Pool.endSession`)
 * or its expiry tells the worker to drop that state (`xotp.endSession`); a session lost with its
 * worker never comes back with its state on another one. Handlers of one parameter are called as
 * before.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pool, callBridge, SessionExpiredError, SessionLostError, pythonBridge } from '../../src/index.js';
import { EXAMPLES, rejectionOf, startBridge } from '../helpers/bridge.js';
import { nextEvent, osPidOf, startPool, until } from '../helpers/pool.js';

const TTL = 10_000;
const signature = { inputs: [{ name: 'input' }], outputs: [{ name: 'output' }] };

type Programs = { programs: string[]; pid: number; session: string | null };

test.serial("regression: session B lists session A's programs on a one-worker pool (seed error 14)", async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: TTL } });
  await Pool.run(rt, 'p', 'create_program', { id: 'a1', signature }, { session: 'A' });
  const b = await Pool.run<Programs>(rt, 'p', 'list_programs', {}, { session: 'B' });
  const a = await Pool.run<Programs>(rt, 'p', 'list_programs', {}, { session: 'A' });
  t.is(a.pid, b.pid, 'one worker: both sessions on one Python process');
  t.deepEqual(b.programs, [], "B does not see A's program");
  t.is(b.session, 'B');
  t.deepEqual(a.programs, ['a1']);
  t.deepEqual(await Pool.run(rt, 'p', 'sessions_held'), ['A', 'B']);
});

test.serial('a handler reads its session through session() (sync, async, thread pool); without a session it is None', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: TTL }, worker: pythonBridge({ module: EXAMPLES, concurrency: 2 }) });
  t.like(await Pool.run(rt, 'p', 'session_info', null, { session: 's1' }), { session: 's1', keys: [] });
  t.like(await Pool.run(rt, 'p', 'session_info', null), { session: null, keys: null });
  t.like(await Pool.run(rt, 'p', 'async_session_info', null, { session: 's2' }), { session: 's2', same: true });
  t.like(await Pool.run(rt, 'p', 'async_session_info', null), { session: null, same: true });
  // Handlers of one parameter are called as before, with or without a session.
  t.deepEqual(await Pool.run(rt, 'p', 'echo', { x: 1 }, { session: 's1' }), { x: 1 });
});

test.serial('a single bridge: callBridge with a session gives the handler ctx.session and private state', async (t) => {
  await using rt = createTestRuntime();
  const { pid } = await startBridge(rt);
  await callBridge(rt, pid, 'create_program', { id: 'x', signature }, { session: 'one' });
  t.deepEqual((await callBridge<Programs>(rt, pid, 'list_programs', {}, { session: 'two' })).programs, []);
  t.deepEqual((await callBridge<Programs>(rt, pid, 'list_programs', {}, { session: 'one' })).programs, ['x']);
  t.is(await callBridge(rt, pid, 'xotp.endSession', { session: 'one' }), true);
  t.deepEqual((await callBridge<Programs>(rt, pid, 'list_programs', {}, { session: 'one' })).programs, []);
});

test.serial("Pool.endSession tells the worker to drop the session's state: the id starts again empty", async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: TTL } });
  await Pool.run(rt, 'p', 'create_program', { id: 'a1', signature }, { session: 'A' });
  const ended = nextEvent(rt, 'pool.sessionEnded', (e) => e.session === 'A');
  t.true(await Pool.endSession(rt, 'p', 'A'));
  t.is((await ended).pool, 'p');
  // Frames reach the worker in order: the drop came before this call.
  t.deepEqual(await Pool.run(rt, 'p', 'sessions_held'), []);
  t.deepEqual((await Pool.run<Programs>(rt, 'p', 'list_programs', {}, { session: 'A' })).programs, []);
});

test.serial("an expired session's state is dropped in Python by the sweep", async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: TTL, sweepInterval: 1000 } });
  await Pool.run(rt, 'p', 'create_program', { id: 'a1', signature }, { session: 'A' });
  await Pool.run(rt, 'p', 'create_program', { id: 'b1', signature }, { session: 'B' });
  await rt.advance(TTL / 2);
  await Pool.run(rt, 'p', 'list_programs', {}, { session: 'B' }); // B stays in use
  const expired = nextEvent(rt, 'pool.sessionExpired');
  await rt.advance(TTL / 2 + 1000); // the sweep at TTL + 1000: A's TTL passed, B's has not
  t.like(await expired, { pool: 'p', session: 'A' });
  t.deepEqual(await Pool.run(rt, 'p', 'sessions_held'), ['B']);
  t.true((await rejectionOf(Pool.run(rt, 'p', 'list_programs', {}, { session: 'A' }))) instanceof SessionExpiredError);
});

test.serial("a lost session's state never reappears: not on the replacement worker, not when the id is used again", async (t) => {
  await using rt = createTestRuntime();
  const { status } = await startPool(rt, { name: 'p', size: 1, sessions: { ttl: TTL } });
  await Pool.run(rt, 'p', 'create_program', { id: 'a1', signature }, { session: 'A' });
  const lost = nextEvent(rt, 'pool.sessionLost', (e) => e.session === 'A');
  const replaced = nextEvent(rt, 'pool.workerStarted');
  process.kill(await osPidOf(rt, status.workers[0]!.pid), 'SIGKILL');
  t.is((await lost).worker.id, status.workers[0]!.pid.id);
  await replaced;
  t.true((await rejectionOf(Pool.run(rt, 'p', 'list_programs', {}, { session: 'A' }))) instanceof SessionLostError);
  t.deepEqual(await Pool.run(rt, 'p', 'sessions_held'), [], 'the replacement holds no session state');
  t.deepEqual((await Pool.run<Programs>(rt, 'p', 'list_programs', {}, { session: 'B' })).programs, []);
  await Pool.endSession(rt, 'p', 'A'); // forget it: the id may start a new session
  t.deepEqual((await Pool.run<Programs>(rt, 'p', 'list_programs', {}, { session: 'A' })).programs, []);
  await until(async () => (await Pool.status(rt, 'p')).ready === 1);
});
