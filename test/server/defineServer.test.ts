import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import {
  defineServer,
  InvalidOptionError,
  ProcessExitError,
  StartError,
  XotpError,
  type CallFrom,
  type ExitReason,
  type ExitMessage,
} from '../../src/index.js';

type Log = Array<string>;

/** A server whose callbacks write what they see into a shared log (input). */
function loggingServer(log: Log, options: { asyncTerminate?: boolean } = {}) {
  return defineServer<number, { start: number }, 'get' | 'stop' | 'crash', number, 'inc' | 'boom'>({
    name: 'logging',
    init: (args) => {
      log.push(`init ${args.start}`);
      return { state: args.start };
    },
    handleCall: (req, _from, n) => {
      log.push(`call ${req}`);
      if (req === 'stop') return { stop: 'normal', reply: n };
      if (req === 'crash') throw new Error('call crash');
      return { reply: n };
    },
    handleCast: (msg, n) => {
      log.push(`cast ${msg}`);
      if (msg === 'boom') throw new Error('cast crash');
      return { state: n + 1 };
    },
    terminate: async (reason, n) => {
      if (options.asyncTerminate) await Promise.resolve();
      log.push(`terminate ${reason instanceof Error ? reason.message : String(reason)} ${n}`);
    },
  });
}

test('init with a state: start resolves the pid after init ran', async (t) => {
  await using rt = createTestRuntime();
  const log: Log = [];
  const pid = await rt.start(loggingServer(log), { input: { start: 5 } });
  t.deepEqual(log, ['init 5']);
  t.is(await rt.call(pid as never, 'get'), 5);
});

test('async init: messages that arrive during init wait and are handled after it, in order', async (t) => {
  await using rt = createTestRuntime();
  const order: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const server = defineServer<string[], undefined, 'get', string[], string>({
    init: async () => {
      await gate;
      order.push('init done');
      return { state: [] };
    },
    handleCast: (msg, s) => {
      order.push(`cast ${msg}`);
      return { state: [...s, msg] };
    },
    handleCall: (_r, _f, s) => ({ reply: s }),
  });
  const pid = rt.spawn(server);
  rt.cast(pid, 'a');
  rt.cast(pid, 'b');
  const reply = rt.call<string[]>(pid, 'get');
  await rt.flush();
  t.deepEqual(order, [], 'nothing handled before init finishes');
  release();
  t.deepEqual(await reply, ['a', 'b']);
  t.deepEqual(order, ['init done', 'cast a', 'cast b']);
});

test('init returning stop: start rejects with StartError carrying the reason; the process exits with it', async (t) => {
  await using rt = createTestRuntime();
  const server = defineServer({ init: () => ({ stop: { shutdown: 'no_config' } }) });
  const err = await t.throwsAsync(rt.start(server), { instanceOf: StartError });
  t.deepEqual(err?.reason, { shutdown: 'no_config' });
  t.deepEqual(rt.trace.exits().map((e) => e.reason), [{ shutdown: 'no_config' }]);
});

test('init returning ignore: start resolves ignore and the process exits normal', async (t) => {
  await using rt = createTestRuntime();
  const server = defineServer({ init: () => ({ ignore: true as const }) });
  t.is(await rt.start(server), 'ignore');
  t.deepEqual(rt.trace.exits().map((e) => e.reason), ['normal']);
});

test('init that throws: StartError with the thrown error; terminate is not run', async (t) => {
  await using rt = createTestRuntime();
  let terminated = false;
  const boom = new Error('init failed');
  const server = defineServer({
    init: () => {
      throw boom;
    },
    terminate: () => {
      terminated = true;
    },
  });
  const err = await t.throwsAsync(rt.start(server), { instanceOf: StartError });
  t.is(err?.reason, boom);
  t.false(terminated);
});

test('async handlers run one at a time, in arrival order, even when later ones could finish first', async (t) => {
  await using rt = createTestRuntime();
  const events: string[] = [];
  const gates = new Map<string, () => void>();
  const server = defineServer<number, undefined, 'get', number, string>({
    init: () => ({ state: 0 }),
    handleCast: async (name, n) => {
      events.push(`start ${name}`);
      await new Promise<void>((resolve) => gates.set(name, resolve));
      events.push(`end ${name}`);
      return { state: n + 1 };
    },
    handleCall: (_r, _f, n) => ({ reply: n }),
  });
  const pid = rt.spawn(server);
  rt.cast(pid, 'a');
  rt.cast(pid, 'b');
  rt.cast(pid, 'c');
  const count = rt.call<number>(pid, 'get');
  await rt.flush();
  t.deepEqual([...gates.keys()], ['a'], 'only the first handler has started');
  gates.get('a')!();
  await rt.flush();
  gates.get('b')!();
  await rt.flush();
  gates.get('c')!();
  t.is(await count, 3);
  t.deepEqual(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
});

test('noreply: the server answers later with ctx.reply', async (t) => {
  await using rt = createTestRuntime();
  const server = defineServer<CallFrom[], undefined, 'wait' | 'release', string>({
    init: () => ({ state: [] }),
    handleCall: (req, from, waiting, ctx) => {
      if (req === 'wait') return { noreply: true, state: [...waiting, from] };
      for (const w of waiting) ctx.reply(w, 'released');
      return { reply: 'done', state: [] };
    },
  });
  const pid = rt.spawn(server);
  const a = rt.call(pid, 'wait');
  const b = rt.call(pid, 'wait');
  t.is(await rt.call(pid, 'release'), 'done');
  t.deepEqual(await Promise.all([a, b]), ['released', 'released']);
});

test('a call can stop the server with a last reply; terminate sees the reason', async (t) => {
  await using rt = createTestRuntime();
  const log: Log = [];
  const pid = rt.spawn(loggingServer(log), { input: { start: 2 } });
  t.is(await rt.call(pid, 'stop'), 2);
  t.is(await rt.exited(pid), 'noproc');
  t.deepEqual(log, ['init 2', 'call stop', 'terminate normal 2']);
  t.deepEqual(rt.trace.exits().map((e) => e.reason), ['normal']);
});

test('a handler that throws: terminate runs with the error, the process exits with it, the caller gets ProcessExitError', async (t) => {
  await using rt = createTestRuntime();
  const log: Log = [];
  const pid = rt.spawn(loggingServer(log), { input: { start: 1 } });
  const err = await t.throwsAsync(rt.call(pid, 'crash'), { instanceOf: ProcessExitError });
  t.true(err?.reason instanceof Error);
  t.is((err?.reason as Error).message, 'call crash');
  t.deepEqual(log, ['init 1', 'call crash', 'terminate call crash 1']);
  t.is(rt.logs.at('error').length, 1, 'one crash report');
});

test('messages queued behind a crashing handler are dropped; their callers get ProcessExitError', async (t) => {
  await using rt = createTestRuntime();
  const server = defineServer<number, undefined, 'get', number, 'slow-crash'>({
    init: () => ({ state: 0 }),
    handleCast: async () => {
      await Promise.resolve();
      throw new Error('late crash');
    },
    handleCall: (_r, _f, n) => ({ reply: n }),
  });
  const pid = rt.spawn(server);
  rt.cast(pid, 'slow-crash');
  const pending = rt.call(pid, 'get');
  const err = await t.throwsAsync(pending, { instanceOf: ProcessExitError });
  t.is((err?.reason as Error).message, 'late crash');
});

test('stop runs terminate (even async) and the process exits with the stop reason', async (t) => {
  await using rt = createTestRuntime();
  const log: Log = [];
  const pid = rt.spawn(loggingServer(log, { asyncTerminate: true }), { input: { start: 3 } });
  t.is(await rt.stop(pid, { shutdown: 'maintenance' }), 'ok');
  t.deepEqual(log, ['init 3', 'terminate [object Object] 3']);
  t.deepEqual(rt.trace.exits().map((e) => e.reason), [{ shutdown: 'maintenance' }]);
});

test('a trapping server: an exit signal from its parent terminates it, one from anyone else is an info', async (t) => {
  await using rt = createTestRuntime();
  const infos: ExitReason[] = [];
  const terminated: ExitReason[] = [];
  const server = defineServer<null>({
    trapExit: true,
    init: () => ({ state: null }),
    handleInfo: (msg) => {
      if (msg.type === 'xotp.exit') infos.push((msg as ExitMessage).reason);
    },
    terminate: (reason) => {
      terminated.push(reason);
    },
  });
  const pid = rt.spawn(server);
  const other = rt.spawn(defineServer({ init: () => ({ state: null }) }));
  rt.exit(pid, 'from_other', other);
  await rt.flush();
  t.deepEqual(infos, ['from_other']);
  t.true(rt.isAlive(pid));
  rt.exit(pid, 'shutdown'); // from the runtime root: its parent
  t.is(await rt.exited(pid), 'noproc');
  t.deepEqual(terminated, ['shutdown']);
  t.deepEqual(rt.trace.exits().map((e) => [String(e.pid), e.reason]), [[String(pid), 'shutdown']]);
});

test('kill during an async handler ends it at once with killed; terminate does not run', async (t) => {
  await using rt = createTestRuntime();
  let terminated = false;
  let release!: () => void;
  const server = defineServer<null, undefined, unknown, unknown, 'hang'>({
    init: () => ({ state: null }),
    handleCast: () => new Promise<void>((r) => (release = r)),
    terminate: () => {
      terminated = true;
    },
  });
  const pid = rt.spawn(server);
  rt.cast(pid, 'hang');
  await rt.flush();
  rt.exit(pid, 'kill');
  t.false(rt.isAlive(pid));
  release();
  await rt.flush();
  t.false(terminated);
  t.deepEqual(rt.trace.exits().map((e) => e.reason), ['killed']);
});

test('a handler returning a bad shape crashes the server with code bad_return', async (t) => {
  await using rt = createTestRuntime();
  const server = defineServer<number, undefined, 'get', number>({
    init: () => ({ state: 0 }),
    handleCall: () => 42 as never,
  });
  const pid = rt.spawn(server);
  const err = await t.throwsAsync(rt.call(pid, 'get'), { instanceOf: ProcessExitError });
  t.true(err?.reason instanceof XotpError);
  t.is((err?.reason as XotpError).code, 'bad_return');
});

test('a cast to a server without handleCast is dropped with a warning, not a crash', async (t) => {
  await using rt = createTestRuntime();
  const pid = rt.spawn(defineServer({ init: () => ({ state: 1 }) }));
  rt.cast(pid, 'anything');
  await rt.flush();
  t.true(rt.isAlive(pid));
  t.regex(rt.logs.at('warn')[0]?.message ?? '', /no handleCast/);
});

test('defineServer rejects a callback that is not a function, naming the key', (t) => {
  const err = t.throws(() => defineServer({ handleCall: 'nope' as never }), { instanceOf: InvalidOptionError });
  t.is(err?.key, 'defineServer.handleCall');
  t.throws(() => defineServer({ handelCall: () => ({ reply: 1 }) } as never), {
    instanceOf: InvalidOptionError,
    message: /unknown option/,
  });
});

test('ctx.spawnLink places the child under the server in the tree and links them', async (t) => {
  await using rt = createTestRuntime();
  const child = defineServer({ name: 'child', init: () => ({ state: null }) });
  const parent = defineServer<string, undefined, 'child', string>({
    name: 'parent',
    init: (_a, ctx) => ({ state: String(ctx.spawnLink(child)) }),
    handleCall: (_r, _f, s) => ({ reply: s }),
  });
  const pid = rt.spawn(parent, { name: 'p' });
  const childPid = rt.processes().find((p) => String(p) !== String(pid))!;
  t.is(await rt.call(pid, 'child'), String(childPid));
  t.is(rt.info(childPid)?.id, 'test/p/child-2');
  t.deepEqual(rt.info(childPid)?.links.map(String), [String(pid)]);
});

test('a server terminating by itself is reported as exiting, and stop waits for it instead of asking again', async (t) => {
  await using rt = createTestRuntime();
  let release!: () => void;
  const terminations: ExitReason[] = [];
  const server = defineServer<null, undefined, 'quit', string>({
    init: () => ({ state: null }),
    handleCall: () => ({ stop: { shutdown: 'asked' }, reply: 'bye' }),
    terminate: (reason) => {
      terminations.push(reason);
      return new Promise<void>((r) => (release = r));
    },
  });
  const pid = rt.spawn(server);
  t.is(await rt.call(pid, 'quit'), 'bye');
  t.is(rt.info(pid)?.status, 'exiting');
  const stopped = rt.stop(pid, 'other_reason');
  await rt.flush();
  release();
  t.is(await stopped, 'ok');
  t.deepEqual(terminations, [{ shutdown: 'asked' }], 'terminate ran once, with the first reason');
  t.deepEqual(rt.trace.exits().map((e) => e.reason), [{ shutdown: 'asked' }]);
});
