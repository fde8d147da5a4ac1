/**
 * Seed error 14 (PoolV2Test "session isolation works correctly", seed-system §3.7): programs
 * created in session A must not be listed in session B. The seed failed twice over: its checkout
 * error path called an ErrorRecoveryOrchestrator that nothing had started (noproc), and Python
 * kept programs per process, not per session. In xotp the orchestrator is part of every pool
 * (nothing separate to forget), and a handler keeps per-session state in `ctx.state`, which no
 * other session sees, even on a one-worker pool.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { Pool } from '../../src/index.js';
import { startPool } from '../helpers/pool.js';

type Programs = { programs: string[]; pid: number };
const signature = { inputs: [{ name: 'question' }], outputs: [{ name: 'answer' }] };

test.serial('seed error 14: programs created in session A are not listed in session B, on one worker, with the recovery orchestrator running', async (t) => {
  await using rt = createTestRuntime();
  await startPool(rt, { name: 'p', size: 1, sessions: { ttl: 60_000 }, retry: true });
  t.like((await Pool.status(rt, 'p')).recovery, { active: 0 }, "the pool's orchestrator runs with it");
  await Pool.run(rt, 'p', 'create_program', { id: 'qa_a', signature }, { session: 'session_a' });
  await Pool.run(rt, 'p', 'create_program', { id: 'qa_b', signature }, { session: 'session_b' });
  const a = await Pool.run<Programs>(rt, 'p', 'list_programs', {}, { session: 'session_a' });
  const b = await Pool.run<Programs>(rt, 'p', 'list_programs', {}, { session: 'session_b' });
  t.is(a.pid, b.pid, 'one Python process served both sessions');
  t.deepEqual(a.programs, ['qa_a']);
  t.deepEqual(b.programs, ['qa_b']);
});
