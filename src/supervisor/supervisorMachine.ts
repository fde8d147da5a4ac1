import { setup, type AnyActorRef } from 'xstate';
import type { Pid } from '../runtime/pid.js';
import { pidOf, runtimeOf } from '../runtime/runtime.js';
import type { CallMessage } from '../runtime/messages.js';
import { formatReason } from '../runtime/exitReason.js';
import { processMachine } from '../runtime/processMachine.js';
import { definedLogic, definitionOf } from '../runtime/definedLogic.js';
import type { SupervisorFlags } from './supervisorFlags.js';
import type { SupervisorRequest } from './childManagement.js';
import { SupervisorCore } from './supervisorCore.js';
import { CONTINUE, INIT, KILL_TIMEOUT, RETRY, STARTED, type SupervisorMessage } from './supervisorMessages.js';
import { supervisorMarker } from './supervisorMarker.js';

/** A supervisor machine's context. @internal */
export interface Context {
  core: SupervisorCore;
  /** Its parent (from the init event), whose exit signal means "shut down now". */
  parent: Pid | undefined;
}

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

const rt = (self: AnyActorRef) => runtimeOf(self);

/** xstate's notice to a parent actor that a child actor failed or finished. */
function isChildNotification(type: string): boolean {
  return type.startsWith('xstate.') && (type.startsWith('xstate.error.actor.') || type.startsWith('xstate.done.actor.'));
}

/**
 * After a request, an exit or a retry has set an operation up while running: carry it out at
 * once when nothing in it has to wait (a one_for_one restart whose child initialises at once),
 * so the hot path takes one transition, not a tour of `restarting` and its executor. Whatever
 * waits, or a shutdown (which must end in `stopped`), goes through the busy states as before.
 */
function advance(context: Context, self: AnyActorRef): void {
  const core = context.core;
  if (core.op === undefined || core.stopping) return;
  if (core.run(rt(self), self) === 'done' && !core.stopping) core.finishOp(rt(self));
}

/**
 * A call's request as the supervisor reads it. Calls come from anyone (`runtime.call` takes any
 * request), so the type system cannot know the shape: `onRequest` checks the tag and answers
 * anything else with `unknown_request`, and each field is checked where it is used.
 */
const requestOf = (event: CallMessage): SupervisorRequest => event.request as SupervisorRequest;

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
 * It is a `processMachine`: it traps exits before any child starts (otp-semantics rule 14), its
 * first step is its init event, and an exit signal from its parent means "shut down now" with
 * that reason (rule 26).
 *
 * @internal
 */
export function createSupervisorMachine(mode: 'static' | 'dynamic', label: string, init: (input: unknown) => SupervisorFlags | 'ignore') {
  const machine = (machines[mode] ??= buildSupervisorMachine(mode));
  const definition: Definition = { label, init };
  return processMachine({ init: INIT, label }).mark(definedLogic(machine, definition));
}

/** What one `supervisor()` or `dynamicSupervisor()` call defines: its label and its flags. */
interface Definition {
  readonly label: string;
  readonly init: (input: unknown) => SupervisorFlags | 'ignore';
}

type SupervisorMachine = ReturnType<typeof buildSupervisorMachine>;

/**
 * One machine per mode for the whole Node process, built by the first definition; each definition
 * is a small object over it (`definedLogic`). Built per `supervisor()` call, a machine cost about
 * 1 ms and 53 KB kept for the definition's life (`pool()`, which defines two, 1.1 ms and 80 KB).
 */
const machines: { static?: SupervisorMachine; dynamic?: SupervisorMachine } = {};

function buildSupervisorMachine(mode: 'static' | 'dynamic') {
  // The protocol's label is each definition's (createSupervisorMachine); what the machine's
  // actions use of `proc` does not depend on it.
  const proc = processMachine({ init: INIT, label: mode === 'static' ? 'supervisor' : 'dynamic-supervisor' });
  const machineSetup = setup({
    types: {} as { context: Context; events: SupervisorMessage; input: unknown },
    guards: {
      fromParent: proc.fromParent,
      stopping: ({ context }) => context.core.stopping,
    },
    actions: {
      finishOp: ({ context, self }) => context.core.finishOp(rt(self)),
    },
  });

  // One state tree, shared by every busy state.
  const executor = machineSetup.createStateConfig({
    initial: 'next',
    states: {
      // A transient state: the core carries the plan out as far as it can without waiting
      // (`run`), and every branch leaves, so each wait is a change of state that xstate sees. (A
      // targetless step that only mutated the core would leave the snapshot unchanged, and xstate
      // stops re-checking eventless transitions on an unchanged snapshot: the plan would stall
      // until some unrelated event arrived.)
      next: {
        entry: ({ context, self }) => void context.core.run(rt(self), self),
        always: [
          { guard: ({ context }) => context.core.step === undefined, target: 'done' },
          { guard: ({ context }) => context.core.step!.kind === 'start', target: 'startingChild' },
          { target: 'terminatingChild' },
        ],
      },
      // A start that did not finish at once. It runs as a plain callback, not an invoked actor:
      // an invoked actor's input (the child spec, machine definition included) went to every
      // inspector on each start, 17-31 KB a child (issue 14, fault 4), and it showed a
      // short-lived actor that is no process.
      startingChild: {
        on: {
          [STARTED]: {
            guard: ({ context, event }) => event.token === context.core.startToken,
            target: 'next',
            actions: ({ context, event, self }) => context.core.onStartedLater(rt(self), self, event.outcome),
          },
        },
      },
      // Children that did not go down at once: wait for their DOWNs, kill them when their
      // shutdown time runs out.
      terminatingChild: {
        entry: machineSetup.enqueueActions(({ context, enqueue }) => {
          context.core.timers = context.core.timeouts.map((ms) => {
            const id = context.core.nextTimerId();
            enqueue.raise({ type: KILL_TIMEOUT, ms }, { delay: ms, id });
            return id;
          });
        }),
        exit: machineSetup.enqueueActions(({ context, enqueue }) => {
          for (const id of context.core.timers) enqueue.cancel(id);
          context.core.timers = [];
        }),
        always: { guard: ({ context }) => context.core.terminateDone(), target: 'next', actions: ({ context }) => context.core.endTerminate() },
        on: {
          'xotp.down': {
            guard: ({ context, event }) => context.core.isPendingDown(event.ref),
            actions: ({ context, event, self }) => context.core.onDown(rt(self), self, event.ref, event.reason),
          },
          [KILL_TIMEOUT]: {
            actions: ({ context, event, self }) => context.core.killStragglers(rt(self), self, event.ms),
          },
          // The EXIT of a child being terminated is expected; its DOWN ends the wait (with the EXIT's
          // reason, if that DOWN says only noproc: the child was dead before the step began).
          'xotp.exit': {
            guard: ({ context, event }) => context.core.isPendingExit(event.from),
            actions: ({ context, event }) => context.core.onPendingExit(event.from, event.reason),
          },
        },
      },
      done: { type: 'final' },
    },
  });

  const queueIt = machineSetup.createStateConfig({
    on: {
      '*': {
        actions: ({ context, event }) => {
          // A start's outcome is only ever for the startingChild state that waits for it.
          if (!event.type.startsWith('xstate.') && event.type !== STARTED) context.core.queue.push(event);
        },
      },
    },
  }).on;
  const afterBusy = [
    { guard: 'stopping', target: '#supervisor.stopped' },
    { target: '#supervisor.running', actions: 'finishOp' },
  ] as const;

  const machine = machineSetup.createMachine({
    id: 'supervisor',
    context: ({ input }) => {
      const { definition, input: spawnInput } = definitionOf<Definition>(input, 'a supervisor machine');
      const flags = definition.init(spawnInput);
      const c = new SupervisorCore(flags === 'ignore' ? emptyFlags(definition.label, mode) : flags);
      c.ignored = flags === 'ignore';
      return { core: c, parent: undefined };
    },
    entry: proc.entry,
    initial: 'initializing',
    states: {
      initializing: {
        on: {
          [INIT]: [
            {
              guard: ({ context }) => context.core.ignored,
              target: 'stopped',
              actions: ({ self }) => proc.ack(self, { ignore: true }),
            },
            {
              target: 'starting',
              actions: ({ context, event }) => {
                context.parent = event.parent;
                context.core.beginInit();
              },
            },
          ],
        },
      },
      starting: {
        ...executor,
        on: queueIt,
        onDone: [
          {
            guard: 'stopping',
            target: 'stopped',
            actions: ({ context, self }) => proc.ack(self, { error: context.core.stopReason }),
          },
          {
            target: 'running',
            actions: ['finishOp', ({ self }) => proc.ack(self, { ok: true })],
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
            actions: machineSetup.enqueueActions(({ context, enqueue }) => {
              enqueue.raise(context.core.queue.shift()!);
            }),
          },
        ],
        on: {
          'xotp.exit': [
            { guard: 'fromParent', actions: ({ context, event }) => context.core.beginShutdown(event.reason) },
            {
              actions: ({ context, event, self }) => {
                context.core.onExit(rt(self), self, event.from, event.reason);
                advance(context, self);
              },
            },
          ],
          'xotp.stop': {
            actions: ({ context, event }) => context.core.beginShutdown(event.reason),
          },
          'xotp.call': {
            actions: ({ context, event, self }) => {
              context.core.onRequest(rt(self), requestOf(event), event.from);
              advance(context, self);
            },
          },
          [RETRY]: {
            actions: ({ context, event, self }) => {
              context.core.onRetry(rt(self), self, event.key);
              advance(context, self);
            },
          },
          'xotp.down': {},
          // Sent by `handleAtRest` (below): nothing to do but re-check the eventless transitions.
          [CONTINUE]: {},
          '*': {
            actions: ({ event, self }) => {
              if (event.type.startsWith('xstate.')) return;
              rt(self).logger.warn(`supervisor ${pidOf(self)} received unexpected message ${formatReason(event)}; ignored`);
            },
          },
        },
      },
      restarting: { ...executor, on: queueIt, onDone: afterBusy },
      managing: { ...executor, on: queueIt, onDone: afterBusy },
      shuttingDown: { ...executor, on: queueIt, onDone: { target: 'stopped' } },
      stopped: {
        type: 'final',
        entry: ({ context, self }) => {
          rt(self).events.emit('supervisor.shutdown', { supervisor: pidOf(self), reason: context.core.stopReason ?? 'normal' });
        },
      },
    },
    output: ({ context }) => proc.exitWith(context.core.ignored ? 'normal' : (context.core.stopReason ?? 'normal')),
  });

  // xstate tells an actor's xstate parent when it fails or finishes (`xstate.error.actor.<id>`,
  // `xstate.done.actor.<id>`). A supervisor's children are placed under it for the tree, but it
  // learns of their ends from the kernel (EXIT, DOWN) and ignores these in every state; each one
  // still cost a macrostep (a fifth of a crash → restart), so they stop here.
  const transition = machine.transition.bind(machine);
  type MachineSnapshot = Parameters<typeof transition>[0];
  type Scope = Parameters<typeof transition>[2];
  /**
   * The hot path of a supervisor at rest: a child's EXIT or a request, received in `running`,
   * is handled by the same core calls as the `running` handlers make, without an xstate
   * macrostep (its Sets and eventless checks were a third of a crash → restart's garbage). When
   * that leaves something for the machine (an operation that waits, a shutdown, queued events),
   * a CONTINUE event lets `running`'s eventless transitions take over, as they would have.
   * Not with an inspector attached, which is told of every transition.
   */
  const handleAtRest = (snapshot: MachineSnapshot, event: SupervisorMessage, scope: Scope): MachineSnapshot | undefined => {
    if (snapshot.status !== 'active' || snapshot.value !== 'running') return undefined;
    if (event.type !== 'xotp.exit' && event.type !== 'xotp.call') return undefined;
    const self = scope.self;
    const runtime = rt(self);
    const context = snapshot.context;
    if (runtime.delivery.inspected || proc.fromParent({ context, event })) return undefined;
    if (event.type === 'xotp.exit') context.core.onExit(runtime, self, event.from, event.reason);
    else context.core.onRequest(runtime, requestOf(event), event.from);
    advance(context, self);
    if (context.core.op === undefined && context.core.queue.length === 0) return snapshot;
    return transition(snapshot, { type: CONTINUE }, scope);
  };
  Object.assign(machine, {
    [supervisorMarker]: true,
    transition: (snapshot: MachineSnapshot, event: SupervisorMessage, scope: Scope) =>
      isChildNotification(event.type) ? snapshot : (handleAtRest(snapshot, event, scope) ?? transition(snapshot, event, scope)),
  });
  return machine;
}
