import { setup, enqueueActions, type EventObject, type AnyActorRef } from 'xstate';
import { Pid } from '../runtime/pid.js';
import { pidOf, runtimeOf } from '../runtime/runtime.js';
import { exitWith } from '../runtime/exitWith.js';
import { processProtocol, type CallMessage, type DownMessage, type ExitMessage, type StopRequestMessage } from '../runtime/messages.js';
import { formatReason } from '../runtime/exitReason.js';
import type { SupervisorFlags } from './supervisorFlags.js';
import type { SupervisorRequest } from './childManagement.js';
import {
  SupervisorCore,
  startChildProcess,
  RETRY,
  KILL_TIMEOUT,
  type StartOutcome,
  type Step,
} from './supervisorCore.js';
import { supervisorMarker } from './supervisorMarker.js';

/** A supervisor machine's context. @internal */
export interface Context {
  core: SupervisorCore;
  /** The step being carried out. */
  step: Step | undefined;
  /** The token of the child start being waited for. */
  startToken: number;
}

/** A child start finished: sent by the supervisor to itself. @internal */
interface StartedEvent {
  type: typeof STARTED;
  /** Which start this answers, so an outcome can never be taken for another start's. */
  token: number;
  outcome: StartOutcome;
}

interface KillTimeoutEvent {
  type: typeof KILL_TIMEOUT;
  ms: number;
}

let timerSeq = 0;
let startSeq = 0;
const INIT = 'xotp.supervisor.init';
const STARTED = 'xotp.supervisor.started';

const emptyFlags = (label: string, mode: 'static' | 'dynamic'): SupervisorFlags => ({
  mode,
  strategy: 'one_for_one',
  maxRestarts: 0,
  periodMs: 1000,
  autoShutdown: 'never',
  maxChildren: Infinity,
  extraInput: undefined,
  label,
  children: [],
});

/**
 * The supervisor as an xstate machine. Its states are the protocol:
 *
 * - `initializing` → `starting` (children in order) → `running`
 * - `running` → `restarting` | `managing` (a child-management request) | `shuttingDown` → `stopped`
 *
 * Every busy state runs the same executor over the core's plan: `next` picks the next step,
 * `startingChild` waits for one child's start, `terminatingChild` asks children to shut down and
 * waits for their DOWN (killing them when their shutdown time runs out). Anything else that
 * arrives while busy is queued and replayed in order once running again, as a gen_server's
 * mailbox would hold it.
 *
 * @internal
 */
export function createSupervisorMachine(mode: 'static' | 'dynamic', label: string, init: (input: unknown) => SupervisorFlags | 'ignore') {
  const core = ({ context }: { context: Context }) => context.core;
  const rt = (self: AnyActorRef) => runtimeOf(self);

  const executor = {
    initial: 'next' as const,
    states: {
      // A transient state: every branch leaves it, so each step is a change of state that xstate
      // sees. (A targetless step that only mutated the core would leave the snapshot unchanged,
      // and xstate stops re-checking eventless transitions on an unchanged snapshot: the plan
      // would stall until some unrelated event arrived.)
      next: {
        always: [
          {
            guard: ({ context }: { context: Context }) => context.core.peekStep() === undefined,
            target: 'done',
            actions: ({ context }: { context: Context }) => {
              context.core.plan = [];
              context.step = undefined;
            },
          },
          {
            guard: ({ context }: { context: Context }) => context.core.peekStep()!.kind === 'start',
            target: 'startingChild',
            actions: ({ context }: { context: Context }) => {
              context.step = context.core.takeStep();
            },
          },
          {
            target: 'terminatingChild',
            actions: ({ context }: { context: Context }) => {
              context.step = context.core.takeStep();
            },
          },
        ],
      },
      // The start runs as a plain promise, not an invoked actor: an invoked actor's input (the
      // child spec, machine definition included) went to every inspector on each start, 17-31 KB
      // a child (issue 14, fault 4), and it showed a short-lived actor that is no process.
      startingChild: {
        entry: ({ context, self }: { context: Context; self: AnyActorRef }) => {
          const key = (context.step as { key: string }).key;
          const child = context.core.children.get(key)!;
          const token = ++startSeq;
          context.startToken = token;
          void startChildProcess(rt(self), pidOf(self), child, context.core.childInput(child)).then((outcome) => {
            // A supervisor killed meanwhile is gone: its child, linked to it, goes too.
            if (self.getSnapshot().status === 'active') self.send({ type: STARTED, token, outcome } satisfies StartedEvent);
          });
        },
        on: {
          [STARTED]: {
            guard: ({ context, event }: { context: Context; event: EventObject }) => (event as StartedEvent).token === context.startToken,
            target: 'next',
            actions: ({ context, event, self }: { context: Context; event: EventObject; self: AnyActorRef }) => {
              context.core.onStarted(rt(self), self, (context.step as { key: string }).key, (event as StartedEvent).outcome);
            },
          },
        },
      },
      terminatingChild: {
        entry: enqueueActions(({ context, self, enqueue }: { context: Context; self: AnyActorRef; enqueue: any }) => {
          const keys = (context.step as { keys: string[] }).keys;
          const timeouts = context.core.beginTerminate(rt(self), self, keys);
          context.core.timers = timeouts.map((ms) => {
            const id = `shutdown-timeout-${++timerSeq}`;
            enqueue.raise({ type: KILL_TIMEOUT, ms } satisfies KillTimeoutEvent, { delay: ms, id });
            return id;
          });
        }),
        exit: enqueueActions(({ context, enqueue }: { context: Context; enqueue: any }) => {
          for (const id of context.core.timers) enqueue.cancel(id);
          context.core.timers = [];
        }),
        always: { guard: ({ context }: { context: Context }) => context.core.terminateDone(), target: 'next' },
        on: {
          'xotp.down': {
            guard: ({ context, event }: { context: Context; event: EventObject }) => context.core.isPendingDown((event as DownMessage).ref),
            actions: ({ context, event, self }: { context: Context; event: EventObject; self: AnyActorRef }) => {
              const down = event as DownMessage;
              context.core.onDown(rt(self), self, down.ref, down.reason);
            },
          },
          [KILL_TIMEOUT]: {
            actions: ({ context, event, self }: { context: Context; event: EventObject; self: AnyActorRef }) =>
              context.core.killStragglers(rt(self), self, (event as KillTimeoutEvent).ms),
          },
          // The EXIT of a child being terminated is expected; its DOWN ends the wait.
          'xotp.exit': {
            guard: ({ context, event }: { context: Context; event: EventObject }) => context.core.isPendingExit((event as ExitMessage).from),
          },
        },
      },
      done: { type: 'final' as const },
    },
  };

  // The executor's own callbacks are typed above; xstate's config types cannot follow a state
  // tree shared by several parents, so it is spread in untyped.
  const busyStates = executor as object;

  const queueIt = {
    '*': {
      actions: ({ context, event }: { context: Context; event: EventObject }) => {
        // A start's outcome is only ever for the startingChild state that waits for it.
        if (!event.type.startsWith('xstate.') && event.type !== STARTED) context.core.queue.push(event);
      },
    },
  };
  const finishOp = ({ context, self }: { context: Context; self: AnyActorRef }) => context.core.finishOp(rt(self));
  const stopping = ({ context }: { context: Context }) => context.core.stopping;
  const afterBusy = [
    { guard: stopping, target: '#supervisor.stopped' },
    { target: '#supervisor.running', actions: finishOp },
  ];

  const machine = setup({
    types: {} as { context: Context; events: EventObject; input: unknown },
  }).createMachine({
    id: 'supervisor',
    context: ({ input }) => {
      const flags = init(input);
      const c = new SupervisorCore(flags === 'ignore' ? emptyFlags(label, mode) : flags);
      c.ignored = flags === 'ignore';
      return { core: c, step: undefined, startToken: 0 };
    },
    // Trap exits before any child starts (otp-semantics rule 14). The first step is an event to
    // itself: xstate defers actions while it computes an actor's initial state, and every step
    // after this one reads what earlier actions did.
    entry: ({ self }) => {
      rt(self).trapExit(pidOf(self), true);
      self.send({ type: INIT });
    },
    initial: 'initializing',
    states: {
      initializing: {
        on: {
          [INIT]: [
            {
              guard: ({ context }) => context.core.ignored,
              target: 'stopped',
              actions: ({ self }) => rt(self).ackStart(self, { ignore: true }),
            },
            { target: 'starting', actions: ({ context }) => context.core.beginInit() },
          ],
        },
      },
      starting: {
        ...busyStates,
        on: queueIt,
        onDone: [
          {
            guard: stopping,
            target: 'stopped',
            actions: ({ context, self }) => rt(self).ackStart(self, { error: context.core.stopReason }),
          },
          {
            target: 'running',
            actions: [finishOp, ({ self }) => rt(self).ackStart(self, { ok: true })],
          },
        ],
      },
      running: {
        always: [
          { guard: ({ context }) => context.core.op?.kind === 'restart', target: 'restarting' },
          { guard: ({ context }) => context.core.op?.kind === 'shutdown', target: 'shuttingDown' },
          { guard: ({ context }) => context.core.op !== undefined, target: 'managing' },
          {
            guard: ({ context }) => context.core.queue.length > 0,
            actions: enqueueActions(({ context, enqueue }) => {
              enqueue.raise(context.core.queue.shift()!);
            }),
          },
        ],
        on: {
          'xotp.exit': {
            actions: ({ context, event, self }) => {
              const { from, reason } = event as unknown as ExitMessage;
              const runtime = rt(self);
              // An exit signal from the parent means "shut down now", with its reason (rule 26).
              if (Pid.equals(from, runtime.parentOf(pidOf(self)))) context.core.beginShutdown(reason);
              else context.core.onExit(runtime, self, from, reason);
            },
          },
          'xotp.stop': {
            actions: ({ context, event }) => context.core.beginShutdown((event as unknown as StopRequestMessage).reason),
          },
          'xotp.call': {
            actions: ({ context, event, self }) => {
              const call = event as unknown as CallMessage<SupervisorRequest>;
              context.core.onRequest(rt(self), call.request, call.from);
            },
          },
          [RETRY]: {
            actions: ({ context, event, self }) => context.core.onRetry(rt(self), self, (event as unknown as { key: string }).key),
          },
          'xotp.down': {},
          '*': {
            actions: ({ event, self }) => {
              if (event.type.startsWith('xstate.')) return;
              rt(self).logger.warn(`supervisor ${pidOf(self)} received unexpected message ${formatReason(event)}; ignored`);
            },
          },
        },
      },
      restarting: { ...busyStates, on: queueIt, onDone: afterBusy },
      managing: { ...busyStates, on: queueIt, onDone: afterBusy },
      shuttingDown: { ...busyStates, on: queueIt, onDone: { target: 'stopped' } },
      stopped: {
        type: 'final',
        entry: ({ context, self }) => {
          rt(self).events.emit('supervisor.shutdown', { supervisor: pidOf(self), reason: context.core.stopReason ?? 'normal' });
        },
      },
    },
    output: ({ context }) => exitWith(context.core.ignored ? 'normal' : (context.core.stopReason ?? 'normal')),
  });

  Object.assign(machine, {
    [processProtocol]: { gracefulStop: true, acksStart: true, label },
    [supervisorMarker]: true,
  });
  return machine;
}
