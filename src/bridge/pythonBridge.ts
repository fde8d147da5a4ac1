import { setup, type AnyActorRef } from 'xstate';
import type { Pid } from '../runtime/pid.js';
import { pidOf, runtimeOf } from '../runtime/runtime.js';
import { recordOf } from '../runtime/processRecord.js';
import type { CallMessage, CastMessage, ExitMessage, StopRequestMessage } from '../runtime/messages.js';
import { isCleanExit, formatReason } from '../runtime/exitReason.js';
import { isPlainObject } from '../runtime/validate.js';
import { processMachine, type ProcessMachineEvent } from '../runtime/processMachine.js';
import { deferredLogic } from '../runtime/deferredLogic.js';
import { definedLogic, definitionOf } from '../runtime/definedLogic.js';
import { BridgeCore, type BridgeCallRequest, type BridgeWedgedMessage } from './bridgeCore.js';
import { launchNow, pythonProcess, type PythonProcessEvent, type PythonProcessSpec } from './pythonProcess.js';
import { defaultPython } from './pythonInterpreter.js';
import { parseBridgeOptions, spawnInput, type BridgeSettings, type PythonBridgeOptions } from './bridgeSettings.js';

// The bridge's public face: its options, and where its Python package lives, go with it.
export type { PythonBridgeOptions } from './bridgeSettings.js';
export { pythonPackageDir } from './bridgeSettings.js';
import { BridgeExitedError, BridgeNotRunningError, BridgeStartupError, ProtocolError } from './bridgeErrors.js';
import { PROTOCOL_VERSION } from './frameCodec.js';

const INIT = 'xotp.bridge.init';
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

interface Context {
  core: BridgeCore;
  /** Its parent (from the init event), whose exit signal means "stop now". */
  parent: Pid | undefined;
  /** Extra environment from the spawn input (see `bridgeSpawnEnv`). */
  env: Record<string, string> | undefined;
}

/** Everything a bridge receives: the kernel's messages, its init event, its process's reports, and its own wedge notice. */
type BridgeEvent = ProcessMachineEvent<typeof INIT> | PythonProcessEvent | BridgeWedgedMessage;

/** One of the events the process actor reports. */
type ProcessEvent<T extends PythonProcessEvent['type']> = Extract<PythonProcessEvent, { type: T }>;

/** The arguments of an action or guard of the transition taking `E`. */
interface Args<E extends BridgeEvent = BridgeEvent> {
  context: Context;
  event: E;
  self: AnyActorRef;
}

/** The arguments of a guard of the transition taking `E` (guards do not see `self`). */
type GuardArgs<E extends BridgeEvent = BridgeEvent> = Omit<Args<E>, 'self'>;

const rt = (self: AnyActorRef) => runtimeOf(self);

/**
 * A call's request. Calls come from anyone (`runtime.call` takes any request), so the type system
 * cannot know the shape: callBridge, bridgeInfo and awaitBridgeReady build these, `send` checks
 * a call's `op` before using it, and anything else fails that call alone.
 */
const requestOf = (event: CallMessage) => event.request as BridgeCallRequest | { bridge: typeof INFO | typeof AWAIT_READY } | null | undefined;
const isInfo = ({ event }: GuardArgs<CallMessage>) => requestOf(event)?.bridge === INFO;
const isAwaitReady = ({ event }: GuardArgs<CallMessage>) => requestOf(event)?.bridge === AWAIT_READY;
const callRequest = (event: CallMessage) => event.request as BridgeCallRequest;

const onOutput = ({ context, event, self }: Args<ProcessEvent<'process.output'>>) => {
  const logger = rt(self).logger;
  if (event.stream === 'stderr') {
    context.core.noteStderr(event.line);
    logger.warn(`[${self.id}] ${event.line}`, { bridge: self.id, stream: 'stderr' });
  } else {
    logger.info(`[${self.id}] ${event.line}`, { bridge: self.id, stream: 'stdout' });
  }
};
const onInfo = ({ context, event, self }: Args<CallMessage>, state: string) => rt(self).reply(event.from, context.core.info(state));
const stopWith = ({ context, event }: Args<StopRequestMessage | ExitMessage>) => {
  context.core.stopReason = event.reason;
};
/** A trapped exit that means "stop": from the parent (as a gen_server), or abnormal from a linked process. */
const mustStop = (proc: { fromParent: (args: GuardArgs<ExitMessage>) => boolean }) => (args: GuardArgs<ExitMessage>) =>
  proc.fromParent(args) || !isCleanExit(args.event.reason);
const onCast = ({ context, event }: Args<CastMessage>) => {
  const m: unknown = event.message;
  if (isPlainObject(m) && m.bridge === 'cancel' && typeof m.token === 'string') context.core.cancel(m.token);
};
/** Records why the bridge is crashing (the first reason wins). */
const crashWith =
  <E extends BridgeEvent>(make: (c: BridgeCore, self: AnyActorRef, event: E) => Error) =>
  ({ context, self, event }: Args<E>) => {
    context.core.crash ??= make(context.core, self, event);
  };
const noteExit = ({ context, event }: Args<ProcessEvent<'process.exit'>>) => {
  context.core.exit = event;
};
const lateSpawn =
  (signal: NodeJS.Signals | null) =>
  ({ context, event }: Args<ProcessEvent<'process.spawned'>>) => {
    const handle = (context.core.handle = event.handle);
    handle.send({ type: 'shutdown' });
    if (signal) handle.kill(signal);
  };
const exitedError = (c: BridgeCore, self: AnyActorRef, why?: string) =>
  new BridgeExitedError(self.id, c.exit?.code ?? null, c.exit?.signal ?? null, [...c.stderrTail], why);
const frameType =
  (type: unknown) =>
  ({ event }: GuardArgs<ProcessEvent<'process.message'>>) =>
    event.message.type === type;
// Frames after the handshake: replies (most take the fast path around the machine), cancel
// acknowledgements, and Python's report of a frame of ours it could not use — which means our
// side of the stream cannot be trusted. Frames of any other type are counted as unknown
// replies and dropped, like replies to no call.
const onFrame = [
  { guard: frameType('cancelled'), actions: ({ context, event }: Args<ProcessEvent<'process.message'>>) => context.core.onCancelAck(event.message) },
  {
    guard: frameType('protocol_error'),
    target: '#bridge.crashing',
    actions: crashWith((_c, self, e: ProcessEvent<'process.message'>) => {
      const m = e.message;
      return new ProtocolError('rejected', `bridge ${self.id}: Python rejected a frame (${String(m.kind)}): ${String(m.message).slice(0, 300)}`);
    }),
  },
  { actions: ({ context, event, self }: Args<ProcessEvent<'process.message'>>) => context.core.onReply(rt(self), event.message) },
];
const protocolBroke = { target: '#bridge.crashing', actions: crashWith((_c, _s, e: ProcessEvent<'process.protocolError'>) => e.error) } as const;
const refuse =
  (state: string) =>
  ({ context, event, self }: Args<CallMessage>) =>
    context.core.notRunning(rt(self), self, event.from, state);

/**
 * A bridge actor owning one Python process (DESIGN.md "Bridge"). Its states are the process's
 * lifecycle: `starting.spawning → starting.handshaking → ready → draining → stopping → exited`,
 * plus `crashing → crashed`. Calls made before `ready` wait in a bounded queue; calls after a
 * stop began fail at once with `BridgeNotRunningError`; the process exiting at any point fails
 * every pending call with `BridgeExitedError` (exit code, signal, stderr tail) and ends the bridge
 * abnormally so its supervisor restarts it. A Python exception fails only its call.
 *
 * It is a `processMachine`: it traps exits (its supervisor's shutdown signal becomes an orderly
 * stop: drain, shutdown frame), and an exit signal from its parent, or an abnormal one from a
 * linked process, stops it. This process's environment (`$XOTP_PYTHON`, `PYTHONPATH`, ...) is
 * read at each spawn, not when the bridge is defined.
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
  const settings = parseBridgeOptions(options);
  const bounded = { startup: settings.startupTimeout !== Infinity, shutdown: settings.shutdownTimeout !== Infinity };
  // Built on first use, once Python was spawned (see deferredLogic), and shared by every
  // definition with the same unbounded timeouts (see definedLogic).
  const machine = (machines[`${bounded.startup}/${bounded.shutdown}`] ??= deferredLogic(() => buildBridgeMachine(bounded)));
  const logic = definedLogic(machine, settings);
  Object.defineProperty(logic, bridgeSpawnEnv, { value: true });
  // Python is spawned as the runtime spawns the bridge, before its actor is built (see PreparedLaunch).
  return processMachine({ init: INIT, label: settings.label, prepare: (input, id) => launchNow(spawnInput(settings, id, spawnEnvOf(input))) }).mark(logic);
}

type BridgeMachine = ReturnType<typeof buildBridgeMachine>;

/**
 * The bridge machines of this Node process, by which timeouts they bound: an unbounded
 * (`Infinity`) startup or shutdown timeout leaves its delayed transitions out (a timer cannot
 * wait forever: Node fires one of more than 2^31-1 ms at once). Each definition is a small object
 * over one (see definedLogic): built per `pythonBridge()` call, a machine cost about 0.8 ms and
 * 49 KB kept for the definition's life.
 */
const machines: Record<string, BridgeMachine> = {};

/** The process protocol's helpers the machine's actions use (the label and prepare are each definition's). */
const proc = processMachine({ init: INIT, label: 'bridge' });
const stopSignal = mustStop(proc);
const failAll = ({ context, self }: Args, error: unknown) => context.core.failAll(rt(self), error);

function buildBridgeMachine(bounded: { startup: boolean; shutdown: boolean }) {
  return setup({
    types: {} as { context: Context; events: BridgeEvent; input: unknown },
    actors: { pythonProcess },
    delays: {
      startup: ({ context }) => context.core.settings.startupTimeout,
      shutdown: ({ context }) => context.core.settings.shutdownTimeout,
    },
  }).createMachine({
    id: 'bridge',
    context: ({ input }) => {
      const { definition: settings, input: spawned } = definitionOf<BridgeSettings>(input, 'a Python bridge machine');
      return { core: new BridgeCore(settings), parent: undefined, env: spawnEnvOf(spawned) };
    },
    entry: [
      proc.entry,
      // However the bridge ends — even killed, when no action of its own runs — its call
      // deadlines go with it.
      ({ context, self }) =>
        void rt(self).monitor(pidOf(self), (down) =>
          context.core.dispose(new BridgeExitedError(self.id, null, null, [...context.core.stderrTail], `the bridge process ended (${String(down.reason)})`)),
        ),
      // callBridge finds the core here, for the direct path of a ready bridge.
      ({ context, self }) => {
        const rec = recordOf(self);
        if (rec) rec.behaviour = context.core;
      },
    ],
    invoke: {
      id: 'process',
      src: 'pythonProcess',
      // The environment is read at each spawn (see spawnInput): by the runtime's spawn, which
      // prepared the launch, else by the process actor as it starts.
      input: ({ self, context }): PythonProcessSpec => {
        const settings = context.core.settings;
        context.core.command = settings.python ?? defaultPython();
        return { settings, owner: self.id, extraEnv: context.env };
      },
    },
    initial: 'starting',
    on: {
      [INIT]: {
        actions: ({ context, event }) => {
          context.parent = event.parent;
        },
      },
      'process.output': { actions: onOutput },
    },
    states: {
      starting: {
        initial: 'spawning',
        ...(bounded.startup
          ? {
              after: {
                startup: {
                  target: 'crashing',
                  actions: crashWith((c, self) => new BridgeStartupError(self.id, `no ready handshake within ${c.settings.startupTimeout} ms`, [...c.stderrTail])),
                },
              },
            }
          : {}),
        on: {
          'xotp.call': [
            { guard: isInfo, actions: (a) => onInfo(a, 'starting') },
            { guard: isAwaitReady, actions: ({ context, event }) => void context.core.readyWaiters.push(event.from) },
            { actions: ({ context, event, self }) => context.core.enqueue(rt(self), self, callRequest(event), event.from) },
          ],
          'xotp.cast': { actions: onCast },
          'xotp.stop': { target: 'stopping', actions: stopWith },
          'xotp.exit': { guard: stopSignal, target: 'stopping', actions: stopWith },
          'process.failed': {
            target: 'crashed',
            actions: crashWith(
              (c, self, e: ProcessEvent<'process.failed'>) =>
                new BridgeStartupError(self.id, `could not start ${c.command}: ${e.error.message}`, [...c.stderrTail], e.error),
            ),
          },
          'process.exit': {
            target: 'crashed',
            actions: [
              noteExit,
              crashWith((c, self) => new BridgeStartupError(self.id, `the process exited before the handshake (${c.exit?.signal ? `signal ${c.exit.signal}` : `exit code ${c.exit?.code}`})`, [...c.stderrTail], undefined, c.exit?.signal ?? null)),
            ],
          },
          'process.protocolError': protocolBroke,
        },
        states: {
          spawning: {
            on: {
              'process.spawned': {
                target: 'handshaking',
                actions: ({ context, event }) => void (context.core.handle = event.handle),
              },
            },
          },
          handshaking: {
            on: {
              'process.message': [
                {
                  guard: ({ event }) => event.message.type === 'ready' && event.message.protocol === PROTOCOL_VERSION,
                  target: '#bridge.ready',
                  actions: [
                    ({ context, event }) => {
                      const m = event.message;
                      context.core.ready = {
                        pid: Number(m.pid),
                        python: String(m.python ?? '?'),
                        handlers: Array.isArray(m.handlers) ? m.handlers.map(String) : [],
                      };
                    },
                    ({ self }) => proc.ack(self, { ok: true }),
                    ({ context, self }) => {
                      const runtime = rt(self);
                      for (const from of context.core.readyWaiters.splice(0)) runtime.reply(from, context.core.info('ready'));
                    },
                    ({ context, self }) => context.core.flushQueue(rt(self), self),
                  ],
                },
                {
                  // Node and Python from different xotp versions would misread each other's frames.
                  guard: ({ event }) => event.message.type === 'ready',
                  target: '#bridge.crashing',
                  actions: crashWith((c, self, e: ProcessEvent<'process.message'>) => {
                    const got = e.message.protocol;
                    const why = `protocol version mismatch: expected ${PROTOCOL_VERSION}, got ${got === undefined ? 'none' : JSON.stringify(got)} (the xotp_bridge Python package does not match this xotp)`;
                    return new BridgeStartupError(self.id, why, [...c.stderrTail], new ProtocolError('bad_handshake', `bridge ${self.id}: ${why}`));
                  }),
                },
                {
                  target: '#bridge.crashing',
                  actions: crashWith((_c, self, e: ProcessEvent<'process.message'>) => new ProtocolError('bad_handshake', `bridge ${self.id}: expected a ready frame first, got ${formatReason(e.message).slice(0, 200)}`)),
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
          c.open = true;
        },
        // Before any action of the transition away: a call made from one of them takes the machine's path.
        exit: ({ context }) => {
          context.core.open = false;
        },
        on: {
          // Calls through the kernel (with an abort signal, or under an inspector); callBridge
          // otherwise sends straight to the pipe while the bridge is here (BridgeCore.direct).
          'xotp.call': [
            { guard: isInfo, actions: (a) => onInfo(a, 'ready') },
            { guard: isAwaitReady, actions: (a) => onInfo(a, 'ready') },
            { actions: ({ context, event, self }) => context.core.send(rt(self), self, callRequest(event), event.from) },
          ],
          'xotp.cast': { actions: onCast },
          'process.message': onFrame,
          'process.protocolError': protocolBroke,
          'bridge.wedged': { target: 'crashing', actions: crashWith((c) => c.wedged!) },
          'process.exit': {
            target: 'crashed',
            actions: [noteExit, crashWith((c, self) => exitedError(c, self, 'unexpected exit'))],
          },
          'xotp.stop': { target: 'draining', actions: stopWith },
          'xotp.exit': { guard: stopSignal, target: 'draining', actions: stopWith },
        },
      },
      draining: {
        // No new calls; the ones in flight get up to shutdownTimeout to finish. Their replies come
        // through the machine again, so that the last one moves it on to stopping.
        entry: ({ context }) => {
          if (context.core.handle) context.core.handle.onReply = undefined;
        },
        always: { guard: ({ context }) => context.core.pending.size === 0, target: 'stopping' },
        ...(bounded.shutdown ? { after: { shutdown: 'stopping' } } : {}),
        on: {
          'xotp.call': [{ guard: isInfo, actions: (a) => onInfo(a, 'draining') }, { actions: refuse('draining') }],
          'xotp.cast': { actions: onCast },
          'process.message': onFrame,
          'process.protocolError': protocolBroke,
          'process.exit': { target: 'exited', actions: noteExit },
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
            ...(bounded.shutdown ? { after: { shutdown: { target: 'terminating', actions: ({ context }) => context.core.handle?.kill('SIGTERM') } } } : {}),
            on: { 'process.spawned': { actions: lateSpawn(null) } },
          },
          terminating: {
            ...(bounded.shutdown ? { after: { shutdown: { target: 'killing', actions: ({ context }) => context.core.handle?.kill('SIGKILL') } } } : {}),
            on: { 'process.spawned': { actions: lateSpawn('SIGTERM') } },
          },
          killing: { on: { 'process.spawned': { actions: lateSpawn('SIGKILL') } } },
        },
        on: {
          'xotp.call': [{ guard: isInfo, actions: (a) => onInfo(a, 'stopping') }, { actions: refuse('stopping') }],
          'process.message': {},
          'process.exit': { target: 'exited', actions: noteExit },
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
              context.core.handle = event.handle;
              event.handle.kill('SIGKILL');
            },
          },
          'process.exit': { target: 'crashed', actions: noteExit },
          'process.failed': { target: 'crashed' },
        },
      },
      crashed: {
        type: 'final',
        entry: [
          ({ context }) => {
            if (context.core.handle) context.core.handle.onReply = undefined;
          },
          // The crash already is the exit (an unexpected one): the calls get it as it is; any
          // other crash is named by its first line (its stderr tail is this error's own).
          (a) => {
            const crash = a.context.core.crash;
            failAll(a, crash instanceof BridgeExitedError ? crash : exitedError(a.context.core, a.self, crash?.message.split('\n')[0]));
          },
          ({ context, self }) => proc.ack(self, { error: context.core.crash }),
        ],
      },
      exited: {
        type: 'final',
        entry: [
          (a) => failAll(a, exitedError(a.context.core, a.self, 'the bridge stopped')),
          ({ context, self }) => proc.ack(self, { error: context.core.stopReason ?? 'normal' }),
        ],
      },
    },
    output: ({ context }) => proc.exitWith(context.core.crash ?? context.core.stopReason ?? 'normal'),
  });
}
