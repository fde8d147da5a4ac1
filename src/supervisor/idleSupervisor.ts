import type { Runtime, Target } from '../runtime/runtime.js';
import { Status } from '../runtime/processRecord.js';
import { mailboxIdle } from '../runtime/xstateInternals.js';
import type { SupervisorCore } from './supervisorCore.js';
import type { Context } from './supervisorMachine.js';
import { supervisorMarker } from './supervisorMarker.js';

/**
 * The core of a supervisor that would answer a read request (which_children, count_children)
 * the moment it arrived: alive, `running`, no operation under way, nothing queued, nothing in
 * its mailbox, and no inspector attached (which would have seen the call). Such a read goes to
 * the supervisor's tables from the caller, as Registry lookups do, with the same answer the call
 * would have given at once; anything else (busy, remote, another node, a name that is not a
 * supervisor) goes through the call, in turn behind what the supervisor has yet to handle.
 *
 * @internal
 */
export function idleSupervisorCore(runtime: Runtime, target: Target): SupervisorCore | undefined {
  if (runtime.delivery.inspected) return undefined;
  const rec = runtime.recordFor(target);
  if (rec === undefined || rec.status !== Status.Alive) return undefined;
  const actor = rec.actor;
  if (!isSupervisorActor(actor) || !mailboxIdle(actor)) return undefined;
  const snapshot = actor.getSnapshot() as { status: string; value: unknown; context: Context };
  if (snapshot.status !== 'active' || snapshot.value !== 'running') return undefined;
  const core = snapshot.context.core;
  return core.op === undefined && core.queue.length === 0 ? core : undefined;
}

/** Whether `actor` runs a supervisor (static or dynamic). @internal */
export function isSupervisorActor(actor: unknown): boolean {
  return (actor as { logic?: { [supervisorMarker]?: true } }).logic?.[supervisorMarker] === true;
}
