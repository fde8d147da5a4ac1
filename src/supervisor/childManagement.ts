import type { Pid } from '../runtime/pid.js';
import type { ExitReason } from '../runtime/exitReason.js';
import type { Runtime, Target } from '../runtime/runtime.js';
import type { ChildSpec, ChildSpecProblem, ChildType, NormalizedChildSpec } from './childSpec.js';
import { idleSupervisorCore, isSupervisorActor } from './idleSupervisor.js';
import { NoProcessError } from '../runtime/errors.js';
import { Status } from '../runtime/processRecord.js';

/** `startChild` results (otp-semantics §1.9 rule 51, §1.11 rule 67). */
export type StartChildResult =
  | { ok: true; pid: Pid; info?: unknown }
  /** The start function returned `'ignore'` (static: the spec is kept unless temporary). */
  | { ok: true; pid: undefined; ignored: true }
  | { ok: false; error: 'already_started'; pid: Pid }
  | { ok: false; error: 'already_present' }
  | { ok: false; error: 'max_children' }
  | { ok: false; error: 'invalid_child_spec'; problem: ChildSpecProblem; message: string }
  /** The start failed with `reason` (OTP `{error, {Reason, ChildSpec}}`; the spec is discarded). */
  | { ok: false; error: 'start_failed'; reason: ExitReason };

/** `restartChild` results (rule 53). */
export type RestartChildResult =
  | { ok: true; pid: Pid; info?: unknown }
  | { ok: true; pid: undefined; ignored: true }
  | { ok: false; error: 'running' | 'restarting' | 'not_found' | 'dynamic' }
  | { ok: false; error: 'already_started'; pid: Pid }
  | { ok: false; error: 'start_failed'; reason: ExitReason };

/** `terminateChild` results (rule 52; dynamic supervisors take a pid, rule 70). */
export type TerminateChildResult = { ok: true } | { ok: false; error: 'not_found' };

/** `deleteChild` results (rule 54). */
export type DeleteChildResult = { ok: true } | { ok: false; error: 'running' | 'restarting' | 'not_found' | 'dynamic' };

/** One row of `whichChildren` (rule 55): newest first for static supervisors, by pid for dynamic ones. */
export interface ChildInfo {
  /** `undefined` for dynamic supervisors' children, as in OTP. */
  id: string | undefined;
  pid: Pid | 'restarting' | undefined;
  type: ChildType;
}

/** `countChildren` (rule 56). */
export interface ChildCounts {
  specs: number;
  active: number;
  supervisors: number;
  workers: number;
}

/** @internal The requests a supervisor answers, carried by `xotp.call`. */
export type SupervisorRequest =
  | { supervisor: 'startChild'; spec: ChildSpec }
  | { supervisor: 'terminateChild'; child: string | Pid }
  | { supervisor: 'restartChild'; id: string }
  | { supervisor: 'deleteChild'; id: string }
  | { supervisor: 'whichChildren' }
  | { supervisor: 'countChildren' }
  | { supervisor: 'getChildSpec'; child: string | Pid };

// Every supervisor API call waits as long as it takes, as OTP's do (`infinity`).
const forever = { timeout: 'infinity' } as const;

/**
 * Sends a supervisor request. A live local process that is not a supervisor is refused at once
 * (NoProcessError): a server would answer it as if it were one, a machine never would. A remote
 * target is asked; its node's supervisor answers.
 */
function ask<R>(runtime: Runtime, supervisor: Target, request: SupervisorRequest): Promise<R> {
  const rec = runtime.recordFor(supervisor);
  if (rec !== undefined && rec.status === Status.Alive && !isSupervisorActor(rec.actor)) {
    return Promise.reject(new NoProcessError(supervisor, request.supervisor, 'A process runs there, but it is not a supervisor'));
  }
  return runtime.call<R>(supervisor, request, forever);
}

/**
 * Adds a child and starts it. Static supervisors: the spec's `id` must be new (else
 * `already_started` / `already_present`); it becomes the last child. Dynamic supervisors: ids
 * are ignored; `max_children` when full.
 *
 * @throws NoProcessError if the supervisor is not alive.
 */
export function startChild(runtime: Runtime, supervisor: Target, spec: ChildSpec): Promise<StartChildResult> {
  return ask(runtime, supervisor, { supervisor: 'startChild', spec } satisfies SupervisorRequest);
}

/**
 * Stops a child with its shutdown spec; it is not restarted. Static: by id, the spec is kept
 * (deleted for temporary children), idempotent. Dynamic: by pid, the child is removed.
 */
export function terminateChild(runtime: Runtime, supervisor: Target, child: string | Pid): Promise<TerminateChildResult> {
  return ask(runtime, supervisor, { supervisor: 'terminateChild', child } satisfies SupervisorRequest);
}

/** Starts a stopped child again (static supervisors only). */
export function restartChild(runtime: Runtime, supervisor: Target, id: string): Promise<RestartChildResult> {
  return ask(runtime, supervisor, { supervisor: 'restartChild', id } satisfies SupervisorRequest);
}

/** Removes a stopped child's spec (static supervisors only). */
export function deleteChild(runtime: Runtime, supervisor: Target, id: string): Promise<DeleteChildResult> {
  return ask(runtime, supervisor, { supervisor: 'deleteChild', id } satisfies SupervisorRequest);
}

/**
 * The children: id, pid (or `'restarting'` / `undefined`) and type. Static supervisors list them
 * newest first (OTP rule 55); dynamic ones by pid, as OTP's simple_one_for_one and Elixir's
 * DynamicSupervisor do, so a restarted child moves to the end.
 */
export function whichChildren(runtime: Runtime, supervisor: Target): Promise<ChildInfo[]> {
  const core = idleSupervisorCore(runtime, supervisor);
  if (core !== undefined) return Promise.resolve(core.whichChildren());
  return ask(runtime, supervisor, { supervisor: 'whichChildren' } satisfies SupervisorRequest);
}

/** Counts of specs, live children, supervisors and workers. */
export function countChildren(runtime: Runtime, supervisor: Target): Promise<ChildCounts> {
  const core = idleSupervisorCore(runtime, supervisor);
  if (core !== undefined) return Promise.resolve(core.countChildren(runtime));
  return ask(runtime, supervisor, { supervisor: 'countChildren' } satisfies SupervisorRequest);
}

/** The full (defaulted) spec of a child, by id or pid. */
export function getChildSpec(
  runtime: Runtime,
  supervisor: Target,
  child: string | Pid,
): Promise<{ ok: true; spec: NormalizedChildSpec } | { ok: false; error: 'not_found' }> {
  return ask(runtime, supervisor, { supervisor: 'getChildSpec', child } satisfies SupervisorRequest);
}
