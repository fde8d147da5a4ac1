import type { AnyActorRef } from 'xstate';
import type { Runtime } from '../runtime/runtime.js';
import type { ProcessTreeNode } from '../runtime/processInfo.js';
import { formatReason } from '../runtime/exitReason.js';
import { processProtocol } from '../runtime/messages.js';
import { supervisorMarker } from '../supervisor/supervisorMarker.js';
import { childIdOf, type SupervisorCore } from '../supervisor/supervisorCore.js';
import { BridgeCore } from '../bridge/bridgeCore.js';
import { BreakerCore } from '../recovery/breakerCore.js';
import type { PoolStatus } from '../workers/poolManager.js';
import type { ExitRecord, LifecycleEntry, LifecycleLog } from './lifecycleLog.js';

/** What a process is, for colouring and details. */
export type NodeKind = 'runtime' | 'supervisor' | 'server' | 'bridge' | 'pool' | 'registry' | 'breaker' | 'other';

/** A supervisor's child that has no process at the moment (restarting, or a stopped static child). */
export interface IdleChild {
  id: string;
  restarting: boolean;
  restarts: number;
  lastExit?: string;
}

/** One node of {@link inspectTree}: a live process with what a viewer shows about it. JSON-safe. */
export interface InspectedNode {
  /** `'<app.3>'`. */
  pid: string;
  /** Its readable actor id (`app/jobs/worker-6`), kept across restarts. */
  id: string;
  name?: string;
  kind: NodeKind;
  /** Its machine's state value as text (`restarting.startingChild`, `ready`), else its actor status. */
  state: string;
  status: 'alive' | 'exiting';
  /** Its id in its supervisor (a dynamic child without a spec id: its actor id's last segment). */
  childId?: string;
  /** How many times its supervisor restarted it (its generation). */
  restarts?: number;
  /** Its previous incarnation's exit reason, as text. */
  lastExit?: string;
  links: string[];
  /** How many monitors watch it. */
  monitoredBy: number;
  trapExit: boolean;
  /** Bridges: the Python process's OS pid. */
  osPid?: number;
  /** Bridges: state, handshake and counters (`bridgeInfo`). */
  bridge?: { pending: number; queued: number; python?: string; calls: number; replies: number; pythonErrors: number; timeouts: number };
  /** Pool managers: the pool's counters (`Pool.status`). */
  pool?: { name: string; size: number; ready: number; starting: number; idle: number; busy: number; queued: number; checkouts: number };
  /** Circuit breakers: their status. */
  breaker?: { state: string; failures: number; opened: number; rejected: number };
  /** Supervisors: strategy, restarts in the current window, children without a process. */
  supervisor?: { strategy: string; restartsInWindow: number; idleChildren: IdleChild[] };
  /** With a lifecycle log: its recent exits, oldest first. */
  recentExits?: ExitRecord[];
  /** With a lifecycle log: what happened to it, oldest first. */
  history?: LifecycleEntry[];
  children: InspectedNode[];
}

/** Options of {@link inspectTree}. */
export interface InspectTreeOptions {
  /** Adds each node's recent exits and lifecycle history (see `recordLifecycle`). */
  log?: LifecycleLog;
}

interface ChildFacts {
  childId: string;
  restarts: number;
  lastExit?: string;
}

/**
 * `runtime.tree()` with what a viewer needs on every node: its kind, its state as text, its
 * restart count and last exit reason (from its supervisor), links and monitors, the OS pid of a
 * bridge, the counters of a pool. Read synchronously from the processes' own tables, without a
 * message to any of them, so it is cheap enough to take ten times a second and cannot wait on a
 * busy process.
 *
 * @example
 * ```ts
 * console.log(formatTree(inspectTree(runtime)));
 * ```
 */
export function inspectTree(runtime: Runtime, options: InspectTreeOptions = {}): InspectedNode {
  const facts = new Map<number, ChildFacts>();
  const visit = (node: ProcessTreeNode): InspectedNode => {
    const actor = runtime.actorOf(node.pid);
    const out = describe(runtime, node, actor, facts);
    // Children are visited after their parent, so the supervisor's facts about them are known.
    out.children = node.children.map(visit);
    return out;
  };
  const tree = runtime.tree();
  const root = visit(tree);
  // The root is the runtime itself, not an actor of its own.
  root.kind = 'runtime';
  root.state = 'running';
  if (options.log) addHistory(root, options.log);
  return root;
}

function addHistory(node: InspectedNode, log: LifecycleLog): void {
  node.recentExits = log.exitsOf(node.id);
  node.history = log.historyOf(node.id);
  for (const c of node.children) addHistory(c, log);
}

function describe(runtime: Runtime, node: ProcessTreeNode, actor: AnyActorRef | undefined, facts: Map<number, ChildFacts>): InspectedNode {
  const info = runtime.info(node.pid);
  const snapshot = safeSnapshot(actor);
  const out: InspectedNode = {
    pid: String(node.pid),
    id: node.id,
    kind: 'other',
    state: stateText(snapshot),
    status: node.status,
    links: (info?.links ?? []).map(String),
    monitoredBy: info?.monitoredBy ?? 0,
    trapExit: info?.trapExit ?? false,
    children: [],
  };
  if (node.name !== undefined) out.name = node.name;
  const mine = facts.get(node.pid.id);
  if (mine) {
    out.childId = mine.childId;
    out.restarts = mine.restarts;
    if (mine.lastExit !== undefined) out.lastExit = mine.lastExit;
  }
  const logic = (actor as { logic?: Record<PropertyKey, unknown> } | undefined)?.logic;
  const context = snapshot?.context as Record<string, unknown> | undefined;
  if (logic?.[supervisorMarker] === true && context?.core !== undefined) {
    const core = context.core as SupervisorCore;
    out.kind = core.flags.label === 'registry' ? 'registry' : 'supervisor';
    const idleChildren: IdleChild[] = [];
    for (const child of core.children.values()) {
      const lastExit = child.lastExit ? formatReason(child.lastExit.reason) : undefined;
      const f: ChildFacts = { childId: childIdOf(child), restarts: child.restarts, ...(lastExit !== undefined ? { lastExit } : {}) };
      if (child.pid !== undefined && !child.restarting) facts.set(child.pid.id, f);
      else idleChildren.push({ id: f.childId, restarting: child.restarting, restarts: child.restarts, ...(lastExit !== undefined ? { lastExit } : {}) });
    }
    out.supervisor = { strategy: core.flags.strategy, restartsInWindow: core.restarts.length, idleChildren };
    return out;
  }
  if (context?.core instanceof BridgeCore) {
    out.kind = 'bridge';
    const b = context.core.info(out.state);
    if (b.osPid !== undefined) out.osPid = b.osPid;
    out.bridge = {
      pending: b.pending,
      queued: b.queued,
      ...(b.python !== undefined ? { python: b.python } : {}),
      calls: b.stats.calls,
      replies: b.stats.replies,
      pythonErrors: b.stats.pythonErrors,
      timeouts: b.stats.timeouts,
    };
    return out;
  }
  if (context?.core instanceof BreakerCore) {
    out.kind = 'breaker';
    const s = context.core.status();
    out.breaker = { state: s.state, failures: s.failures, opened: s.opened, rejected: s.rejected };
    return out;
  }
  const pool = poolStatusOf(context);
  if (pool !== undefined) {
    out.kind = 'pool';
    out.pool = {
      name: pool.name,
      size: pool.size,
      ready: pool.ready,
      starting: pool.starting,
      idle: pool.idle,
      busy: pool.busy,
      queued: pool.queued,
      checkouts: pool.stats.checkouts,
    };
    return out;
  }
  if (isServerLogic(logic)) out.kind = 'server';
  return out;
}

/** The pool manager keeps its state and a reply context in its machine context. */
function poolStatusOf(context: Record<string, unknown> | undefined): PoolStatus | undefined {
  const pool = context?.pool as { status?: (ctx: unknown) => PoolStatus } | undefined;
  if (typeof pool?.status !== 'function' || context?.ctx === undefined) return undefined;
  try {
    return pool.status(context.ctx);
  } catch {
    return undefined;
  }
}

/** A `defineServer` logic: not a state machine, but a process that acknowledges its start. */
function isServerLogic(logic: Record<PropertyKey, unknown> | undefined): boolean {
  if (logic === undefined || 'root' in logic) return false;
  const protocol = logic[processProtocol] as { acksStart?: boolean } | undefined;
  return protocol?.acksStart === true && typeof logic.config === 'object';
}

function safeSnapshot(actor: AnyActorRef | undefined): { status?: string; value?: unknown; context?: unknown } | undefined {
  try {
    return actor?.getSnapshot() as { status?: string; value?: unknown; context?: unknown } | undefined;
  } catch {
    return undefined;
  }
}

/** A machine's state value as text: `running`, `restarting.startingChild`, `a.x,b.y` for parallel states. */
export function stateText(snapshot: { status?: string; value?: unknown } | undefined): string {
  if (snapshot === undefined) return 'unknown';
  const value = snapshot.value;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return flatten(value as Record<string, unknown>);
  return snapshot.status ?? 'unknown';
}

function flatten(value: Record<string, unknown>): string {
  return Object.entries(value)
    .map(([k, v]) => (typeof v === 'object' && v !== null && Object.keys(v).length > 0 ? `${k}.${flatten(v as Record<string, unknown>)}` : k + (typeof v === 'string' ? `.${v}` : '')))
    .join(',');
}
