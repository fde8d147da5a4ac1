import { Pid, isPid } from '../runtime/pid.js';
import type { ExitReason } from '../runtime/exitReason.js';
import { AlreadyRegisteredError, StartError } from '../runtime/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import type { StartFunctionResult } from './childSpec.js';
import type { Child } from './supervisorCore.js';

/** The outcome of one child start. @internal */
export type StartOutcome =
  | { pid: Pid; info?: unknown }
  | { ignore: true }
  | { alreadyStarted: Pid }
  | { error: ExitReason };

/**
 * Starts one child, as `supervisor.erl`'s `do_start_child`: spawns its logic linked to and
 * placed under the supervisor (and waits for its init), or calls its start function. Never
 * throws: whatever goes wrong is the outcome's `error` (a name already taken is
 * `alreadyStarted`, as OTP's `{error, {already_started, Pid}}`).
 *
 * @internal
 */
export async function startChildProcess(rt: Runtime, sup: Pid, child: Child, input: unknown): Promise<StartOutcome> {
  const spec = child.spec;
  try {
    let result: StartFunctionResult;
    if (typeof spec.start === 'function') {
      result = await spec.start({ runtime: rt, supervisor: sup, id: spec.id, input, name: spec.name });
    } else {
      result = await rt.start(spec.start, {
        parent: sup,
        link: sup,
        input,
        ...(spec.name !== undefined ? { name: spec.name } : {}),
        // A restart keeps the segment of the first start (a dynamic child's `worker-6`).
        ...(spec.id ? { id: spec.id } : child.segment !== undefined ? { id: child.segment } : {}),
      });
    }
    // A start function is user code: what it returns is checked, not trusted.
    const returned: unknown = result;
    if (returned === 'ignore') return { ignore: true };
    if (isPid(returned)) return { pid: Pid.from(returned) };
    if (typeof returned === 'object' && returned !== null && 'pid' in returned && isPid(returned.pid)) {
      return { pid: Pid.from(returned.pid), info: 'info' in returned ? returned.info : undefined };
    }
    return { error: { badReturn: returned } };
  } catch (err) {
    if (err instanceof StartError) return { error: err.reason };
    if (err instanceof AlreadyRegisteredError && isPid(err.owner)) return { alreadyStarted: Pid.from(err.owner) };
    return { error: err };
  }
}

/** The last segment of a process's readable actor id (`worker-6` of `app/jobs/worker-6`). @internal */
export function lastSegment(rt: Runtime, pid: Pid): string | undefined {
  const path = rt.info(pid)?.id;
  return path === undefined ? undefined : path.slice(path.lastIndexOf('/') + 1);
}
