import { Pid, isPid } from '../runtime/pid.js';
import type { ExitReason } from '../runtime/exitReason.js';
import { AlreadyRegisteredError, StartError } from '../runtime/errors.js';
import type { Runtime, SpawnOptions } from '../runtime/runtime.js';
import type { StartAck } from '../runtime/messages.js';
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
 * placed under the supervisor (and waits for its init), or calls its start function. `done`
 * gets the outcome exactly once — synchronously when the child initialised within the call (a
 * server whose `init` returned at once, a start function that returned a pid), so that the
 * supervisor can go on with its next child in the same step; later otherwise. Never throws:
 * whatever goes wrong is the outcome's `error` (a name already taken is `alreadyStarted`, as
 * OTP's `{error, {already_started, Pid}}`).
 *
 * @internal
 */
export function startChild(rt: Runtime, sup: Pid, child: Child, input: unknown, done: (outcome: StartOutcome) => void): void {
  const spec = child.spec;
  let outcome: StartOutcome;
  try {
    if (typeof spec.start === 'function') {
      const result: unknown = spec.start({ runtime: rt, supervisor: sup, id: spec.id, input, name: spec.name });
      if (isThenable(result)) {
        result.then(
          (value) => done(outcomeOf(value as StartFunctionResult)),
          (err: unknown) => done(failureOf(err)),
        );
        return;
      }
      outcome = outcomeOf(result as StartFunctionResult);
    } else {
      const options: SpawnOptions = { parent: sup, link: sup, input };
      if (spec.name !== undefined) options.name = spec.name;
      // A restart keeps the segment of the first start (a dynamic child's `worker-6`).
      const id = spec.id || child.segment;
      if (id !== undefined) options.id = id;
      rt.startNow(spec.start, options, (ack: StartAck, pid: Pid) =>
        done('ok' in ack ? { pid } : 'ignore' in ack ? { ignore: true } : { error: ack.error }),
      );
      return;
    }
  } catch (err) {
    outcome = failureOf(err);
  }
  done(outcome);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** What a start function returned, checked: it is user code, not trusted. */
function outcomeOf(result: StartFunctionResult): StartOutcome {
  const returned: unknown = result;
  if (returned === 'ignore') return { ignore: true };
  if (isPid(returned)) return { pid: Pid.from(returned) };
  if (typeof returned === 'object' && returned !== null && 'pid' in returned && isPid(returned.pid)) {
    return { pid: Pid.from(returned.pid), info: 'info' in returned ? returned.info : undefined };
  }
  return { error: { badReturn: returned } };
}

function failureOf(err: unknown): StartOutcome {
  if (err instanceof StartError) return { error: err.reason };
  if (err instanceof AlreadyRegisteredError && isPid(err.owner)) return { alreadyStarted: Pid.from(err.owner) };
  return { error: err };
}
