import type { AnyActorRef } from 'xstate';
import { supervisorMarker } from './supervisorMarker.js';
import type { Context } from './supervisorMachine.js';

/**
 * Says whether `actor` is a supervisor that holds work it could do now but is not doing: at
 * rest between two steps of its plan (a step state it should only pass through), or running
 * with a request in progress or events waiting in its queue. Nothing will move such a
 * supervisor on until some unrelated event reaches it, so a test harness that sees one must
 * not call the runtime settled.
 *
 * A supervisor waiting for a child to start or to go down is not stalled: that child (or a
 * timer) will move it on.
 *
 * @returns a readable description of the stall, or `undefined`.
 * @internal
 */
export function supervisorStall(actor: AnyActorRef): string | undefined {
  const logic = (actor as AnyActorRef & { logic?: { [supervisorMarker]?: true } }).logic;
  if (logic?.[supervisorMarker] !== true) return undefined;
  const snapshot = actor.getSnapshot() as { status: string; value: unknown; context: Context };
  if (snapshot.status !== 'active') return undefined;
  const core = snapshot.context.core;
  const value = snapshot.value;
  const where =
    typeof value === 'string'
      ? value
      : Object.entries(value as Record<string, unknown>)
          .map(([k, v]) => `${k}.${String(v)}`)
          .join(',');
  const queued = `op ${core.op?.kind ?? 'none'}, ${core.planned} planned step(s), ${core.queue.length} queued event(s)`;
  if (typeof value === 'object' && value !== null) {
    const step = Object.values(value as Record<string, unknown>)[0];
    if (step === 'next' || step === 'done') return `at rest in ${where} (${queued})`;
    return undefined;
  }
  if (value === 'running' && (core.op !== undefined || core.queue.length > 0)) return `at rest in ${where} (${queued})`;
  return undefined;
}
