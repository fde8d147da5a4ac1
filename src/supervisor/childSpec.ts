import type { AnyActorLogic } from 'xstate';
import { InvalidOptionError } from '../runtime/errors.js';
import { defineErrorClasses, defineErrorCodes } from '../runtime/errorTaxonomy.js';
import { isPlainObject } from '../runtime/validate.js';
import type { Pid } from '../runtime/pid.js';
import type { Runtime } from '../runtime/runtime.js';
import { supervisorMarker } from './supervisorMarker.js';
import { isViaName, type ViaName } from '../runtime/nameService.js';

/** When a child is restarted (otp-semantics §1.5). */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** How a child is stopped: kill at once, ask and wait this many ms then kill, or ask and wait. */
export type Shutdown = number | 'brutal_kill' | 'infinity';

export type ChildType = 'worker' | 'supervisor';

/** What a start function gives back: the child's pid (optionally with extra info), or 'ignore'. */
export type StartFunctionResult = Pid | 'ignore' | { pid: Pid; info: unknown };

/** Passed to a start function. */
export interface ChildStartContext {
  readonly runtime: Runtime;
  /** The supervisor: the new process must be linked to it and should be placed under it. */
  readonly supervisor: Pid;
  readonly id: string;
  readonly input: unknown;
  readonly name: string | ViaName | undefined;
}

/**
 * Starts a child by hand (OTP's start MFA). It must create the process linked to
 * `ctx.supervisor` and resolve its pid, `'ignore'`, or throw / reject to fail the start.
 */
export type StartFunction = (ctx: ChildStartContext) => StartFunctionResult | Promise<StartFunctionResult>;

/**
 * A child specification (OTP's child spec map, camelCased).
 *
 * `start` is usually xstate logic (a `defineServer` result, a machine, another supervisor):
 * the supervisor spawns it linked to itself, placed under itself in the tree, with `input`, and
 * waits for its init. A function gives full control instead.
 */
export interface ChildSpec {
  /** Unique among a static supervisor's children; optional for dynamic supervisors. */
  id?: string;
  start: AnyActorLogic | StartFunction;
  input?: unknown;
  /** Register the child under this name (local, or a via name) each time it is started. */
  name?: string | ViaName;
  /** Default `'permanent'`. */
  restart?: RestartType;
  /** Default 5000 for workers, `'infinity'` for supervisors. */
  shutdown?: Shutdown;
  /** Default `'supervisor'` when `start` is a supervisor, else `'worker'`. */
  type?: ChildType;
  /** Only with `autoShutdown` other than `'never'`, and not for permanent children. */
  significant?: boolean;
}

/** A validated child spec with every default filled in. */
export interface NormalizedChildSpec {
  readonly id: string;
  readonly start: AnyActorLogic | StartFunction;
  readonly input: unknown;
  readonly name: string | ViaName | undefined;
  readonly restart: RestartType;
  readonly shutdown: Shutdown;
  readonly type: ChildType;
  readonly significant: boolean;
}

/**
 * Why a child spec was refused, in OTP's words (`missing_id`, `invalid_restart_type`,
 * `bad_combination`, `duplicate_child_name`, ...), camelCased where OTP uses a tuple.
 */
export type ChildSpecProblem =
  | 'invalid_child_spec'
  | 'missing_id'
  | 'missing_start'
  | 'invalid_start'
  | 'invalid_input'
  | 'invalid_name'
  | 'invalid_restart_type'
  | 'invalid_shutdown'
  | 'invalid_child_type'
  | 'invalid_significant'
  | 'bad_combination'
  | 'duplicate_child_name'
  | 'unknown_key';

/**
 * A child spec is malformed. `problem` is OTP's reason; `key` the offending field.
 * Code `invalid_child_spec`; also an `InvalidOptionError`.
 */
export class ChildSpecError extends InvalidOptionError {
  readonly problem: ChildSpecProblem;
  readonly value: unknown;

  constructor(problem: ChildSpecProblem, key: string, expected: string, value: unknown) {
    super(key, expected, value, `child spec: ${problem}`, 'invalid_child_spec');
    this.problem = problem;
    this.value = value;
  }
}

const specKeys = new Set(['id', 'start', 'input', 'name', 'restart', 'shutdown', 'type', 'significant']);

function isLogic(value: unknown): value is AnyActorLogic {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AnyActorLogic).transition === 'function' &&
    typeof (value as AnyActorLogic).getInitialSnapshot === 'function'
  );
}

/**
 * Validates one child spec and fills in its defaults (otp-semantics §1.4).
 *
 * Unlike OTP, an unknown key is refused (`unknown_key`) rather than ignored: a misspelt option
 * must not silently fall back to a default (the seed system's options errors).
 *
 * @param autoShutdown the supervisor's auto-shutdown mode, for the `significant` rules.
 * @param where a prefix for error keys, e.g. `children[2]`.
 * @param mode static supervisors need an id; dynamic ones ignore ids and refuse `significant`.
 */
export function normalizeChildSpec(
  spec: unknown,
  autoShutdown: 'never' | 'any_significant' | 'all_significant',
  where: string,
  mode: 'static' | 'dynamic',
): NormalizedChildSpec {
  // A Map has no own keys: read as a spec it would be reported as missing its id.
  if (!isPlainObject(spec)) {
    throw new ChildSpecError('invalid_child_spec', where, 'a child spec object', spec);
  }
  const s = spec as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (!specKeys.has(key)) {
      throw new ChildSpecError('unknown_key', `${where}.${key}`, `a child spec key (${[...specKeys].join(', ')})`, s[key]);
    }
  }
  let id = '';
  if (mode === 'dynamic') {
    // Dynamic supervisors ignore ids (Elixir): any value is accepted and dropped.
  } else if (s.id === undefined) {
    throw new ChildSpecError('missing_id', `${where}.id`, 'a child id (a non-empty string)', undefined);
  } else if (typeof s.id !== 'string' || !/^[^/\s]+$/.test(s.id)) {
    throw new ChildSpecError('missing_id', `${where}.id`, "a non-empty id without '/' or spaces", s.id);
  } else {
    id = s.id;
  }
  if (s.start === undefined) throw new ChildSpecError('missing_start', `${where}.start`, 'xstate logic or a start function', undefined);
  if (!isLogic(s.start) && typeof s.start !== 'function') {
    throw new ChildSpecError('invalid_start', `${where}.start`, 'xstate logic or a start function', s.start);
  }
  if (s.name !== undefined && !isViaName(s.name) && (typeof s.name !== 'string' || !/^\S+$/.test(s.name))) {
    throw new ChildSpecError('invalid_name', `${where}.name`, 'a non-empty name without spaces, or a via name { via, key }', s.name);
  }
  const restart = s.restart ?? 'permanent';
  if (restart !== 'permanent' && restart !== 'transient' && restart !== 'temporary') {
    throw new ChildSpecError('invalid_restart_type', `${where}.restart`, "'permanent', 'transient' or 'temporary'", s.restart);
  }
  const isSupervisorLogic = isLogic(s.start) && supervisorMarker in s.start && s.start[supervisorMarker] === true;
  const type = s.type ?? (isSupervisorLogic ? 'supervisor' : 'worker');
  if (type !== 'worker' && type !== 'supervisor') {
    throw new ChildSpecError('invalid_child_type', `${where}.type`, "'worker' or 'supervisor'", s.type);
  }
  const shutdown = s.shutdown ?? (type === 'supervisor' ? 'infinity' : 5000);
  if (
    !(shutdown === 'brutal_kill' || shutdown === 'infinity') &&
    !(typeof shutdown === 'number' && Number.isInteger(shutdown) && shutdown >= 0)
  ) {
    throw new ChildSpecError('invalid_shutdown', `${where}.shutdown`, "an integer ≥ 0 (ms), 'brutal_kill' or 'infinity'", s.shutdown);
  }
  const significant = s.significant ?? false;
  if (typeof significant !== 'boolean') {
    throw new ChildSpecError('invalid_significant', `${where}.significant`, 'a boolean', s.significant);
  }
  if (significant && mode === 'dynamic') {
    // Dynamic supervisors do not support significant children (otp-semantics rule 65).
    throw new ChildSpecError('invalid_significant', `${where}.significant`, 'false (dynamic supervisors have no auto-shutdown)', significant);
  }
  if (significant && autoShutdown === 'never') {
    throw new ChildSpecError(
      'bad_combination',
      `${where}.significant`,
      "significant: false when the supervisor's autoShutdown is 'never'",
      { autoShutdown, significant },
    );
  }
  if (significant && restart === 'permanent') {
    throw new ChildSpecError('bad_combination', `${where}.significant`, "significant: false for a 'permanent' child", {
      restart,
      significant,
    });
  }
  return {
    id,
    start: s.start as AnyActorLogic | StartFunction,
    input: s.input,
    name: s.name as string | ViaName | undefined,
    restart,
    shutdown: shutdown as Shutdown,
    type,
    significant,
  };
}

/** Validates a static supervisor's child list: every spec, and unique ids (`duplicate_child_name`). */
export function normalizeChildSpecs(
  children: unknown,
  autoShutdown: 'never' | 'any_significant' | 'all_significant',
  where: string,
): NormalizedChildSpec[] {
  if (children === undefined) return [];
  if (!Array.isArray(children)) throw new ChildSpecError('invalid_child_spec', where, 'an array of child specs', children);
  const seen = new Set<string>();
  return children.map((spec, i) => {
    const n = normalizeChildSpec(spec, autoShutdown, `${where}[${i}]`, 'static');
    if (seen.has(n.id)) throw new ChildSpecError('duplicate_child_name', `${where}[${i}].id`, 'an id not used by another child', n.id);
    seen.add(n.id);
    return n;
  });
}

defineErrorCodes({ invalid_child_spec: { category: 'bad_input', retryable: false } });

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ invalid_child_spec: ChildSpecError });
