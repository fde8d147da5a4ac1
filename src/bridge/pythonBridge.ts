import { dirname, resolve as resolvePath, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setup, type AnyActorRef, type EventObject } from 'xstate';
import { Pid } from '../runtime/pid.js';
import { InvalidOptionError } from '../runtime/errors.js';
import { pidOf, runtimeOf } from '../runtime/runtime.js';
import { exitWith } from '../runtime/exitWith.js';
import { processProtocol, type CallMessage, type CastMessage, type ExitMessage, type StopRequestMessage } from '../runtime/messages.js';
import { isCleanExit, formatReason } from '../runtime/exitReason.js';
import { validateOptions, optional, isString, integer, isTimeout, anything, isPlainObject, notPlain } from '../runtime/validate.js';
import { BridgeCore, type BridgeCallRequest, type BridgeSettings } from './bridgeCore.js';
import { pythonProcess, type PythonProcessEvent, type PythonProcessInput } from './pythonProcess.js';
import { defaultPython } from './pythonInterpreter.js';
import { BridgeExitedError, BridgeNotRunningError, BridgeStartupError, ProtocolError } from './bridgeErrors.js';
import { PROTOCOL_VERSION } from './frameCodec.js';

/** Options of `pythonBridge()`. */
export interface PythonBridgeOptions {
  /** A module of handlers, run as `python -m xotp_bridge --module <module>`. */
  module?: string;
  /** Or a script that registers handlers and calls `xotp_bridge.serve()` itself. */
  script?: string;
  /** The Python command; resolved once to the real interpreter. Default `$XOTP_PYTHON` or `python3`. */
  python?: string;
  /** Extra arguments (after the module or script). */
  args?: string[];
  /** Extra environment variables (on top of this process's). */
  env?: Record<string, string>;
  cwd?: string;
  /** ms from spawn to the `ready` handshake. Default 10000. */
  startupTimeout?: number | 'infinity';
  /** Default per-call deadline in ms. Default 30000. */
  callTimeout?: number | 'infinity';
  /** ms for each shutdown step: the shutdown frame, then SIGTERM, then SIGKILL. Default 5000. */
  shutdownTimeout?: number | 'infinity';
  /**
   * ms Python has, once a call outlived its deadline, to let go of it: acknowledge the cancel
   * (an async handler cancelled, a queued call dropped) or reply late (a synchronous handler
   * that finished). Past it the bridge is wedged: it ends with BridgeWedgedError and its
   * supervisor replaces it. `'infinity'` never ends it. Default 2000.
   */
  cancelGrace?: number | 'infinity';
  /** Largest frame accepted in either direction. Default 16 MiB. */
  maxFrameBytes?: number;
  /** Calls sent and queued at most; more fail with BridgeOverloadedError. Default 1024. */
  maxPending?: number;
  /** Calls Python runs at once (a thread pool when > 1). Default 1. */
  concurrency?: number;
  /** Label in the bridge's readable id. Default `'bridge'`. */
  label?: string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The directory holding the `xotp_bridge` Python package (../../python from src/ or dist/). */
export const pythonPackageDir = resolvePath(here, '..', '..', 'python');

const INFO = 'info';
const AWAIT_READY = 'awaitReady';

/**
 * Marks bridge logic that takes `{ env }` as its spawn input: environment variables added to its
 * process's own (a pool marks its processes with its run id this way, for the orphan sweep).
 * @internal
 */
export const bridgeSpawnEnv = Symbol.for('xotp.bridge.spawnEnv');

function spawnEnvOf(input: unknown): Record<string, string> | undefined {
  const env = (input as { env?: unknown } | undefined)?.env;
  return isPlainObject(env) && Object.values(env).every((v) => typeof v === 'string') ? (env as Record<string, string>) : undefined;
}

function parse(options: unknown): BridgeSettings {
  const o = validateOptions('pythonBridge', options, {
    module: optional(isString),
    script: optional(isString),
    python: optional(isString),
    args: optional((v, key) => {
      if (!Array.isArray(v) || !v.every((a) => typeof a === 'string')) throw new InvalidOptionError(key, 'an array of strings', v);
      return v as string[];
    }, []),
    env: optional((v, key) => {
      // A Map has no own values: it would pass as an empty environment, silently dropped.
      if (!isPlainObject(v)) throw notPlain(key, 'an object of string values', v);
      if (!Object.values(v).every((x) => typeof x === 'string')) throw new InvalidOptionError(key, 'an object of string values', v);
      return v as Record<string, string>;
    }, {}),
    cwd: optional(isString),
    startupTimeout: optional(isTimeout, 10_000),
    callTimeout: optional(isTimeout, 30_000),
    shutdownTimeout: optional(isTimeout, 5_000),
    cancelGrace: optional(isTimeout, 2_000),
    maxFrameBytes: optional(integer(16, 2 ** 31 - 1), 16 * 1024 * 1024),
    maxPending: optional(integer(1), 1024),
    concurrency: optional(integer(1, 1024), 1),
    label: optional(anything),
  });
  if ((o.module === undefined) === (o.script === undefined)) {
    throw new InvalidOptionError('pythonBridge.module', 'exactly one of module or script', { module: o.module, script: o.script });
  }
  const label = o.label ?? 'bridge';
  if (typeof label !== 'string' || !/^[^/\s]+$/.test(label)) {
    throw new InvalidOptionError('pythonBridge.label', "a label without '/' or spaces", label);
  }
  const argv =
    o.module !== undefined
      ? ['-m', 'xotp_bridge', '--module', o.module, '--concurrency', String(o.concurrency), '--', ...o.args]
      : // Through xotp_bridge too, so that it arms "exit when Node dies" before the script runs.
        ['-m', 'xotp_bridge', '--script', o.script!, '--concurrency', String(o.concurrency), '--', ...o.args];
  const inherited = process.env.PYTHONPATH;
  return {
    label,
    python: o.python ?? defaultPython(),
    argv,
    env: {
      ...process.env,
      ...o.env,
      PYTHONPATH: [pythonPackageDir, o.env.PYTHONPATH ?? inherited].filter(Boolean).join(delimiter),
      PYTHONUNBUFFERED: '1',
      XOTP_BRIDGE_PARENT_PID: String(process.pid),
      XOTP_BRIDGE_CONCURRENCY: String(o.concurrency),
      // Python refuses (fails that call) a reply larger than we would accept.
      XOTP_BRIDGE_MAX_FRAME_BYTES: String(o.maxFrameBytes),
    },
    cwd: o.cwd,
    startupTimeout: o.startupTimeout,
    callTimeout: o.callTimeout,
    shutdownTimeout: o.shutdownTimeout,
    cancelGrace: o.cancelGrace,
    maxFrameBytes: o.maxFrameBytes,
    maxPending: o.maxPending,
    concurrency: o.concurrency,
  };
}

interface Context {
  core: BridgeCore;
  /** Extra environment from the spawn input (see `bridgeSpawnEnv`). */
  env: Record<string, string> | undefined;
}

type Ev = EventObject;
const core = ({ context }: { context: Context }) => context.core;
const rt = (self: AnyActorRef) => runtimeOf(self);
const asCall = (e: Ev) => e as unknown as CallMessage<BridgeCallRequest | { bridge: typeof INFO }>;
const processEvent = <T extends PythonProcessEvent['type']>(e: Ev) => e as unknown as Extract<PythonProcessEvent, { type: T }>;

/**
 * A bridge actor owning one Python process (DESIGN.md "Bridge"). Its states are the process's
 * lifecycle: `starting.spawning → starting.handshaking → ready → draining → stopping → exited`,
 * plus `crashing → crashed`. Calls made before `ready` wait in a bounded queue; calls after a
 * stop began fail at once with `BridgeNotRunningError`; the process exiting at any point fails
 * every pending call with `BridgeExitedError` (exit code, signal, stderr tail) and ends the bridge
 * abnormally so its supervisor restarts it. A Python exception fails only its call.
 *
 * Spawn it under a supervisor (or with `runtime.start`, which resolves after the handshake) and
 * call it with `callBridge(runtime, bridge, op, args)`.
 *
 * @example
 * ```ts
 * const py = pythonBridge({ module: 'my_handlers', callTimeout: 10_000 });
 * const pid = await runtime.start(py, { name: 'py' });
 * await callBridge(runtime, 'py', 'embed', { text: 'hello' });
 * ```
 * @throws InvalidOptionError naming the key for bad options.
 */
export function pythonBridge(options: PythonBridgeOptions) {
  const settings = parse(options);
  const failAll = ({ context, self }: { context: Context; self: AnyActorRef }, error: unknown) => context.core.failAll(rt(self), error);
  const exitedError = (c: BridgeCore, self: AnyActorRef, why?: string) =>
    new BridgeExitedError(self.id, c.exit?.code ?? null, c.exit?.signal ?? null, [...c.stderrTail], why);

  const onOutput = ({ context, event, self }: { context: Context; event: Ev; self: AnyActorRef }) => {
    const out = processEvent<'process.output'>(event);
    const logger = rt(self).logger;
    if (out.stream === 'stderr') {
      context.core.noteStderr(out.line);
      logger.warn(`[${self.id}] ${out.line}`, { bridge: self.id, stream: 'stderr' });
    } else {
      logger.info(`[${self.id}] ${out.line}`, { bridge: self.id, stream: 'stdout' });
    }
  };
  const onInfo = ({ context, event, self }: { context: Context; event: Ev; self: AnyActorRef }, state: string) =>
    rt(self).reply(asCall(event).from, context.core.info(state));
  const isInfo = ({ event }: { event: Ev }) => (asCall(event).request as { bridge?: string })?.bridge === INFO;
  const isAwaitReady = ({ event }: { event: Ev }) => (asCall(event).request as { bridge?: string })?.bridge === AWAIT_READY;
  const fromParent = ({ context, event }: { context: Context; event: Ev }) =>
    Pid.equals((event as unknown as ExitMessage).from, context.core.parent);
  const stopWith = ({ context, event }: { context: Context; event: Ev }) => {
    const e = event as unknown as StopRequestMessage | ExitMessage;
    context.core.stopReason = e.reason;
  };
  const abnormalExit = ({ event }: { event: Ev }) => !isCleanExit((event as unknown as ExitMessage).reason);
  const onCast = ({ context, event }: { context: Context; event: Ev }) => {
    const m = (event as unknown as CastMessage<{ bridge?: string; token?: string }>).message;
    if (m?.bridge === 'cancel' && typeof m.token === 'string') context.core.cancel(m.token);
  };
  const crashWith = (make: (c: BridgeCore, self: AnyActorRef, event: Ev) => Error) => ({ context, self, event }: { context: Context; self: AnyActorRef; event: Ev }) => {
    context.core.crash ??= make(context.core, self, event);
  };
  const lateSpawn = (signal: NodeJS.Signals | null) => ({ context, event }: { context: Context; event: Ev }) => {
    const handle = (context.core.handle = processEvent<'process.spawned'>(event).handle);
    handle.send({ type: 'shutdown' });
    if (signal) handle.kill(signal);
  };
  const frameType = (type: unknown) => ({ event }: { event: Ev }) => processEvent<'process.message'>(event).message.type === type;
  // Frames after the handshake: replies (most take the fast path around the machine), cancel
  // acknowledgements, and Python's report of a frame of ours it could not use — which means our
  // side of the stream cannot be trusted. Frames of any other type are counted as unknown
  // replies and dropped, like replies to no call.
  const onFrame = [
    { guard: frameType('cancelled'), actions: ({ context, event }: { context: Context; event: Ev }) => context.core.onCancelAck(processEvent<'process.message'>(event).message) },
    {
      guard: frameType('protocol_error'),
      target: '#bridge.crashing',
      actions: crashWith((_c, self, e) => {
        const m = processEvent<'process.message'>(e).message;
        return new ProtocolError('rejected', `bridge ${self.id}: Python rejected a frame (${String(m.kind)}): ${String(m.message).slice(0, 300)}`);
      }),
    },
    { actions: ({ context, event, self }: { context: Context; event: Ev; self: AnyActorRef }) => context.core.onReply(rt(self), processEvent<'process.message'>(event).message) },
  ];
  const refuse = (state: string) => ({ context, event, self }: { context: Context; event: Ev; self: AnyActorRef }) =>
    context.core.notRunning(rt(self), self, asCall(event).from, state);

  const machine = setup({
    types: {} as { context: Context; events: Ev },
    actors: { pythonProcess },
    delays: {
      startup: () => settings.startupTimeout,
      shutdown: () => settings.shutdownTimeout,
    },
  }).createMachine({
    id: 'bridge',
    context: ({ input }) => ({ core: new BridgeCore(settings), env: spawnEnvOf(input) }),
    // Trap exits: a supervisor's shutdown signal becomes an orderly stop (drain, shutdown frame).
    entry: ({ context, self }) => {
      const runtime = rt(self);
      runtime.trapExit(pidOf(self), true);
      context.core.parent = runtime.parentOf(pidOf(self));
      // However the bridge ends — even killed, when no action of its own runs — its call
      // deadlines go with it.
      runtime.monitor(pidOf(self), () => context.core.dispose());
    },
    invoke: {
      id: 'process',
      src: 'pythonProcess',
      input: ({ self, context }): PythonProcessInput => ({
        owner: self.id,
        python: settings.python,
        argv: settings.argv,
        env: context.env ? { ...settings.env, ...context.env } : settings.env,
        cwd: settings.cwd,
        maxFrameBytes: settings.maxFrameBytes,
      }),
    },
    initial: 'starting',
    on: {
      'process.output': { actions: onOutput },
    },
    states: {
      starting: {
        initial: 'spawning',
        ...(settings.startupTimeout === Infinity
          ? {}
          : {
              after: {
                startup: {
                  target: 'crashing',
                  actions: crashWith((c, self) => new BridgeStartupError(self.id, `no ready handshake within ${settings.startupTimeout} ms`, [...c.stderrTail])),
                },
              },
            }),
        on: {
          'xotp.call': [
            { guard: isInfo, actions: (a) => onInfo(a, 'starting') },
            { guard: isAwaitReady, actions: ({ context, event }) => void context.core.readyWaiters.push(asCall(event).from) },
            { actions: ({ context, event, self }) => context.core.enqueue(rt(self), self, asCall(event).request as BridgeCallRequest, asCall(event).from) },
          ],
          'xotp.cast': { actions: onCast },
          'xotp.stop': { target: 'stopping', actions: stopWith },
          'xotp.exit': { guard: (a) => fromParent(a) || abnormalExit(a), target: 'stopping', actions: stopWith },
          'process.failed': {
            target: 'crashed',
            actions: crashWith((c, self, e) => new BridgeStartupError(self.id, `could not start ${settings.python}: ${processEvent<'process.failed'>(e).error.message}`, [...c.stderrTail], processEvent<'process.failed'>(e).error)),
          },
          'process.exit': {
            target: 'crashed',
            actions: [
              ({ context, event }) => void (context.core.exit = processEvent<'process.exit'>(event)),
              crashWith((c, self) => new BridgeStartupError(self.id, `the process exited before the handshake (${c.exit?.signal ? `signal ${c.exit.signal}` : `exit code ${c.exit?.code}`})`, [...c.stderrTail], undefined, c.exit?.signal ?? null)),
            ],
          },
          'process.protocolError': { target: 'crashing', actions: crashWith((_c, _s, e) => processEvent<'process.protocolError'>(e).error) },
        },
        states: {
          spawning: {
            on: {
              'process.spawned': {
                target: 'handshaking',
                actions: ({ context, event }) => void (context.core.handle = processEvent<'process.spawned'>(event).handle),
              },
            },
          },
          handshaking: {
            on: {
              'process.message': [
                {
                  guard: ({ event }) => {
                    const m = processEvent<'process.message'>(event).message;
                    return m.type === 'ready' && m.protocol === PROTOCOL_VERSION;
                  },
                  target: '#bridge.ready',
                  actions: [
                    ({ context, event }) => {
                      const m = processEvent<'process.message'>(event).message;
                      context.core.ready = {
                        pid: Number(m.pid),
                        python: String(m.python ?? '?'),
                        handlers: Array.isArray(m.handlers) ? (m.handlers as string[]) : [],
                      };
                    },
                    ({ self }) => rt(self).ackStart(self, { ok: true }),
                    ({ context, self }) => {
                      const runtime = rt(self);
                      for (const from of context.core.readyWaiters.splice(0)) runtime.reply(from, context.core.info('ready'));
                    },
                    ({ context, self }) => context.core.flushQueue(rt(self), self),
                  ],
                },
                {
                  // Node and Python from different xotp versions would misread each other's frames.
                  guard: ({ event }) => processEvent<'process.message'>(event).message.type === 'ready',
                  target: '#bridge.crashing',
                  actions: crashWith((c, self, e) => {
                    const got = processEvent<'process.message'>(e).message.protocol;
                    const why = `protocol version mismatch: expected ${PROTOCOL_VERSION}, got ${got === undefined ? 'none' : JSON.stringify(got)} (the xotp_bridge Python package does not match this xotp)`;
                    return new BridgeStartupError(self.id, why, [...c.stderrTail], new ProtocolError('bad_handshake', `bridge ${self.id}: ${why}`));
                  }),
                },
                {
                  target: '#bridge.crashing',
                  actions: crashWith((_c, self, e) => new ProtocolError('bad_handshake', `bridge ${self.id}: expected a ready frame first, got ${formatReason(processEvent<'process.message'>(e).message).slice(0, 200)}`)),
                },
              ],
            },
          },
        },
      },
      ready: {
        entry: ({ context, self }) => {
          const c = context.core;
          const runtime = rt(self);
          if (c.handle) c.handle.onReply = (message) => c.onReply(runtime, message);
        },
        on: {
          'xotp.call': [
            { guard: isInfo, actions: (a) => onInfo(a, 'ready') },
            { guard: isAwaitReady, actions: (a) => onInfo(a, 'ready') },
            { actions: ({ context, event, self }) => context.core.send(rt(self), self, asCall(event).request as BridgeCallRequest, asCall(event).from) },
          ],
          'xotp.cast': { actions: onCast },
          'process.message': onFrame,
          'process.protocolError': { target: 'crashing', actions: crashWith((_c, _s, e) => processEvent<'process.protocolError'>(e).error) },
          'bridge.wedged': { target: 'crashing', actions: crashWith((c) => c.wedged!) },
          'process.exit': {
            target: 'crashed',
            actions: [
              ({ context, event }) => void (context.core.exit = processEvent<'process.exit'>(event)),
              crashWith((c, self) => exitedError(c, self, 'unexpected exit')),
            ],
          },
          'xotp.stop': { target: 'draining', actions: stopWith },
          'xotp.exit': { guard: (a) => fromParent(a) || abnormalExit(a), target: 'draining', actions: stopWith },
        },
      },
      draining: {
        // No new calls; the ones in flight get up to shutdownTimeout to finish. Their replies come
        // through the machine again, so that the last one moves it on to stopping.
        entry: ({ context }) => {
          if (context.core.handle) context.core.handle.onReply = undefined;
        },
        always: { guard: ({ context }) => context.core.pending.size === 0, target: 'stopping' },
        ...(settings.shutdownTimeout === Infinity ? {} : { after: { shutdown: 'stopping' } }),
        on: {
          'xotp.call': [{ guard: isInfo, actions: (a) => onInfo(a, 'draining') }, { actions: refuse('draining') }],
          'xotp.cast': { actions: onCast },
          'process.message': onFrame,
          'process.protocolError': { target: 'crashing', actions: crashWith((_c, _s, e) => processEvent<'process.protocolError'>(e).error) },
          'process.exit': { target: 'exited', actions: ({ context, event }) => void (context.core.exit = processEvent<'process.exit'>(event)) },
        },
      },
      stopping: {
        entry: [
          ({ context }) => {
            if (context.core.handle) context.core.handle.onReply = undefined;
          },
          ({ context, self }) => context.core.failAll(rt(self), new BridgeNotRunningError(self.id, 'stopping', 'the call was abandoned before Python answered it')),
          ({ context }) => {
            const h = context.core.handle;
            if (h && !h.exited) h.send({ type: 'shutdown' });
          },
        ],
        initial: 'asking',
        states: {
          // A process that appears only now (stopped while spawning) gets where the others are.
          asking: {
            ...(settings.shutdownTimeout === Infinity ? {} : { after: { shutdown: { target: 'terminating', actions: ({ context }) => context.core.handle?.kill('SIGTERM') } } }),
            on: { 'process.spawned': { actions: lateSpawn(null) } },
          },
          terminating: {
            ...(settings.shutdownTimeout === Infinity ? {} : { after: { shutdown: { target: 'killing', actions: ({ context }) => context.core.handle?.kill('SIGKILL') } } }),
            on: { 'process.spawned': { actions: lateSpawn('SIGTERM') } },
          },
          killing: { on: { 'process.spawned': { actions: lateSpawn('SIGKILL') } } },
        },
        on: {
          'xotp.call': [{ guard: isInfo, actions: (a) => onInfo(a, 'stopping') }, { actions: refuse('stopping') }],
          'process.message': {},
          'process.exit': { target: 'exited', actions: ({ context, event }) => void (context.core.exit = processEvent<'process.exit'>(event)) },
          'process.failed': { target: 'exited' },
        },
      },
      crashing: {
        // The protocol broke (or the handshake timed out): kill the process, wait until it is gone.
        entry: ({ context }) => {
          if (context.core.handle) context.core.handle.onReply = undefined;
          context.core.handle?.kill('SIGKILL');
        },
        on: {
          'xotp.call': [{ guard: isInfo, actions: (a) => onInfo(a, 'crashing') }, { actions: refuse('crashing') }],
          'process.spawned': {
            actions: ({ context, event }) => {
              context.core.handle = processEvent<'process.spawned'>(event).handle;
              context.core.handle.kill('SIGKILL');
            },
          },
          'process.exit': { target: 'crashed', actions: ({ context, event }) => void (context.core.exit = processEvent<'process.exit'>(event)) },
          'process.failed': { target: 'crashed' },
        },
      },
      crashed: {
        type: 'final',
        entry: [
          ({ context }) => {
            if (context.core.handle) context.core.handle.onReply = undefined;
          },
          (a) => failAll(a, exitedError(a.context.core, a.self, a.context.core.crash?.message)),
          ({ context, self }) => rt(self).ackStart(self, { error: context.core.crash }),
        ],
      },
      exited: {
        type: 'final',
        entry: [
          (a) => failAll(a, exitedError(a.context.core, a.self, 'the bridge stopped')),
          ({ context, self }) => rt(self).ackStart(self, { error: context.core.stopReason ?? 'normal' }),
        ],
      },
    },
    output: ({ context }) => exitWith(context.core.crash ?? context.core.stopReason ?? 'normal'),
  });
  Object.assign(machine, { [processProtocol]: { gracefulStop: true, acksStart: true, label: settings.label }, [bridgeSpawnEnv]: true });
  return machine;
}
