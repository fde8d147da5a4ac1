import type { Pid } from '../runtime/pid.js';
import type { ExitReason } from '../runtime/exitReason.js';
import type { Runtime, Target } from '../runtime/runtime.js';
import type { ChildSpec, ChildSpecProblem, ChildType, NormalizedChildSpec } from './childSpec.js';
import { idleSupervisorCore } from './idleSupervisor.js';

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
 * Adds a child and starts it. Static supervisors: the spec's `id` must be new (else
 * `already_started` / `already_present`); it becomes the last child. Dynamic supervisors: ids
 * are ignored; `max_children` when full.
 *
 * @throws NoProcessError if the supervisor is not alive.
 */
export function startChild(runtime: Runtime, supervisor: Target, spec: ChildSpec): Promise<StartChildResult> {
  return runtime.call(supervisor, { supervisor: 'startChild', spec } satisfies SupervisorRequest, forever);
}

/**
 * Stops a child with its shutdown spec; it is not restarted. Static: by id, the spec is kept
 * (deleted for temporary children), idempotent. Dynamic: by pid, the child is removed.
 */
export function terminateChild(runtime: Runtime, supervisor: Target, child: string | Pid): Promise<TerminateChildResult> {
  return runtime.call(supervisor, { supervisor: 'terminateChild', child } satisfies SupervisorRequest, forever);
}

/** Starts a stopped child again (static supervisors only). */
export function restartChild(runtime: Runtime, supervisor: Target, id: string): Promise<RestartChildResult> {
  return runtime.call(supervisor, { supervisor: 'restartChild', id } satisfies SupervisorRequest, forever);
}

/** Removes a stopped child's spec (static supervisors only). */
export function deleteChild(runtime: Runtime, supervisor: Target, id: string): Promise<DeleteChildResult> {
  return runtime.call(supervisor, { supervisor: 'deleteChild', id } satisfies SupervisorRequest, forever);
}

/**
 * The children: id, pid (or `'restarting'` / `undefined`) and type. Static supervisors list them
 * newest first (OTP rule 55); dynamic ones by pid, as OTP's simple_one_for_one and Elixir's
 * DynamicSupervisor do, so a restarted child moves to the end.
 */
export function whichChildren(runtime: Runtime, supervisor: Target): Promise<ChildInfo[]> {
  const core = idleSupervisorCore(runtime, supervisor);
  if (core !== undefined) return Promise.resolve(core.whichChildren());
  return runtime.call(supervisor, { supervisor: 'whichChildren' } satisfies SupervisorRequest, forever);
}

/** Counts of specs, live children, supervisors and workers. */
export function countChildren(runtime: Runtime, supervisor: Target): Promise<ChildCounts> {
  const core = idleSupervisorCore(runtime, supervisor);
  if (core !== undefined) return Promise.resolve(core.countChildren(runtime));
  return runtime.call(supervisor, { supervisor: 'countChildren' } satisfies SupervisorRequest, forever);
}

/** The full (defaulted) spec of a child, by id or pid. */
export function getChildSpec(
  runtime: Runtime,
  supervisor: Target,
  child: string | Pid,
): Promise<{ ok: true; spec: NormalizedChildSpec } | { ok: false; error: 'not_found' }> {
  return runtime.call(supervisor, { supervisor: 'getChildSpec', child } satisfies SupervisorRequest, forever);
}
