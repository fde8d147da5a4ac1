import type { Pid } from '../runtime/pid.js';
import { formatReason, isCleanExit, type ExitReason } from '../runtime/exitReason.js';
import type { Runtime } from '../runtime/runtime.js';
import { silentLogger } from '../runtime/logger.js';

/**
 * What went wrong, in `supervisor.erl`'s words (its `errorContext`): a child failed to start, a
 * child exited, a child answered its shutdown with an unexpected reason, or the supervisor
 * itself is shutting down (after reaching its restart intensity).
 *
 * @internal
 */
export type ReportContext = 'start_error' | 'child_terminated' | 'shutdown_error' | 'shutdown';

/**
 * Writes a supervisor report, as `supervisor.erl`'s `report_error/4` does for every context:
 * one line naming the supervisor, the context, the child (by `childIdOf`, so a dynamic child
 * reads as `worker-6`, as in the supervisor's events) and its pid when known, and the reason; the same
 * facts as structured meta (`supervisor`, `context`, `id`, `reason`) for a logger that keeps
 * them. A child that exited cleanly (a permanent child ending `normal`, which is still
 * restarted) is reported at `info`; everything else is an error.
 *
 * @internal
 */
export function reportChild(
  rt: Runtime,
  supervisor: Pid,
  context: ReportContext,
  id: string,
  reason: ExitReason,
  pid?: Pid,
): void {
  // The message and meta are built for nothing when every record is dropped (a hot restart loop).
  if (rt.logger === silentLogger) return;
  const message = `supervisor ${supervisor}: ${context} ${id}${pid === undefined ? '' : ` (${pid})`}: ${formatReason(reason)}`;
  const meta = { supervisor: String(supervisor), context, id, reason };
  if (context === 'child_terminated' && isCleanExit(reason)) rt.logger.info(message, meta);
  else rt.logger.error(message, meta);
}
