/**
 * A bridge spawns its Python process in the turn it starts whenever the interpreter is known
 * without waiting (issue 13, the first bridge of a process): Python's start-up, tens of ms, then
 * overlaps the rest of the bridge's start instead of following it. Observed through the runtime's
 * tracked OS resources, which count a process from its spawn.
 */
import test from 'ava';
import { basename, dirname } from 'node:path';
import { createTestRuntime } from '../../src/testing/index.js';
import { callBridge, resolvePython, type Pid } from '../../src/index.js';
import { examples } from '../helpers/bridge.js';
import { pythonChildren } from '../helpers/pool.js';

test.serial('regression: a bridge awaited before spawning Python — with its interpreter already resolved, the process is spawned within start', async (t) => {
  await using rt = createTestRuntime();
  await resolvePython(process.env.XOTP_PYTHON || 'python3'); // now known without waiting
  const before = rt.stats().resources;
  const started = rt.start(examples());
  t.is(rt.stats().resources, before + 1, 'spawned in the same turn as start');
  const pid = (await started) as Pid;
  t.is(await callBridge(rt, pid, 'echo', 'x'), 'x');
  await rt.stop(pid);
});

test.serial('a command that has to be run to be resolved is spawned once it answers, as before', async (t) => {
  await using rt = createTestRuntime();
  const real = await resolvePython(process.env.XOTP_PYTHON || 'python3');
  // A spelling of the interpreter resolvePython has not seen: it runs it once to ask.
  const python = `${dirname(real)}/./././${basename(real)}`;
  const before = rt.stats().resources;
  const started = rt.start(examples({ python }));
  t.is(rt.stats().resources, before, 'not spawned while the command is being resolved');
  const pid = (await started) as Pid;
  t.is(await callBridge(rt, pid, 'echo', 'y'), 'y');
  await rt.stop(pid);
});

test.serial('regression: Python started only once the bridge actor was built (6-10 ms of cold xstate code first) — it is spawned before', async (t) => {
  await using rt = createTestRuntime();
  await resolvePython(process.env.XOTP_PYTHON || 'python3');
  const logic = examples();
  const before = pythonChildren();
  let atBuild: Set<number> | undefined;
  // xstate asks the logic for its initial snapshot while it builds the actor.
  const initial = logic.getInitialSnapshot;
  logic.getInitialSnapshot = function (this: typeof logic, ...args: Parameters<typeof initial>) {
    atBuild ??= pythonChildren();
    return initial.apply(this, args);
  };
  const pid = (await rt.start(logic)) as Pid;
  const spawned = [...atBuild!].filter((p) => !before.has(p));
  t.is(spawned.length, 1, 'one Python process existed before the actor was built');
  t.is(await callBridge(rt, pid, 'echo', 'z'), 'z', 'and the bridge uses it');
  t.deepEqual([...pythonChildren()].filter((p) => !before.has(p)), spawned, 'no second process');
  await rt.stop(pid);
});

test.serial('regression: a bridge start copied the whole environment twice (its launch and its process actor each read process.env) — once now', async (t) => {
  await using rt = createTestRuntime();
  await resolvePython(process.env.XOTP_PYTHON || 'python3');
  const real = process.env;
  let copies = 0;
  // Copying an object enumerates its keys: count that, the slow part of reading process.env.
  process.env = new Proxy(real, {
    ownKeys(target) {
      copies++;
      return Reflect.ownKeys(target);
    },
  });
  let pid: Pid;
  try {
    pid = (await rt.start(examples())) as Pid;
  } finally {
    process.env = real;
  }
  t.is(copies, 1);
  t.is(await callBridge(rt, pid, 'echo', 'w'), 'w');
  await rt.stop(pid);
});
