import { InvalidOptionError } from '../runtime/errors.js';
import { defineErrorClasses, defineErrorCodes } from '../runtime/errorTaxonomy.js';
import { isPlainObject } from '../runtime/validate.js';
import { normalizeChildSpecs, type ChildSpec, type NormalizedChildSpec } from './childSpec.js';

export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';
export type AutoShutdown = 'never' | 'any_significant' | 'all_significant';

/** Options of `supervisor()`. */
export interface SupervisorOptions {
  /** Default `'one_for_one'`. */
  strategy?: Strategy;
  /** Restarts allowed within `maxSeconds` (OTP intensity). Default 3, as in Elixir. */
  maxRestarts?: number;
  /** The intensity window in seconds (OTP period; may be fractional). Default 5, as in Elixir. */
  maxSeconds?: number;
  /** Default `'never'`. */
  autoShutdown?: AutoShutdown;
  /** Started in this order, stopped in the reverse order. */
  children?: ChildSpec[];
  /** Label used in the supervisor's own readable id when it has no name. Default `'supervisor'`. */
  label?: string;
}

/** Options of `dynamicSupervisor()`. */
export interface DynamicSupervisorOptions {
  /** Only `'one_for_one'`, as in Elixir. */
  strategy?: 'one_for_one';
  maxRestarts?: number;
  maxSeconds?: number;
  /** How many children at most (restarting ones count), or `'infinity'` (default). */
  maxChildren?: number | 'infinity';
  /**
   * Merged under every child's `input` (the child's own keys win), at start and at restart:
   * Elixir's `extra_arguments`, for an input object instead of an argument list.
   */
  extraInput?: Record<string, unknown>;
  /** Must be `'never'`: dynamic supervisors do not support auto-shutdown (as in Elixir). */
  autoShutdown?: 'never';
  label?: string;
}

/**
 * Supervisor flags are malformed. `problem` is OTP's `supervisor_data` reason
 * (`invalid_strategy`, `invalid_intensity`, `invalid_period`, `invalid_auto_shutdown`,
 * `invalid_max_children`, `invalid_extra_input`), or xotp's own `invalid_type` (not a plain
 * object), `unknown_key` (a misspelt option) and `invalid_label`. Code `invalid_supervisor_flags`.
 */
export class SupervisorFlagsError extends InvalidOptionError {
  readonly problem: string;
  constructor(problem: string, key: string, expected: string, value: unknown) {
    super(key, expected, value, `supervisor flags: ${problem}`, 'invalid_supervisor_flags');
    this.problem = problem;
  }
}

/** @internal */
export interface SupervisorFlags {
  mode: 'static' | 'dynamic';
  strategy: Strategy;
  maxRestarts: number;
  periodMs: number;
  autoShutdown: AutoShutdown;
  maxChildren: number;
  extraInput: Record<string, unknown> | undefined;
  label: string;
  children: NormalizedChildSpec[];
}

const staticKeys = ['strategy', 'maxRestarts', 'maxSeconds', 'autoShutdown', 'children', 'label'];
const dynamicKeys = ['strategy', 'maxRestarts', 'maxSeconds', 'maxChildren', 'extraInput', 'autoShutdown', 'label'];

/** Validates supervisor options into flags (otp-semantics §1.3 rule 15/18, §1.11 rule 66). */
function parseFlags(options: unknown, mode: 'static' | 'dynamic'): SupervisorFlags {
  const where = mode === 'static' ? 'supervisor' : 'dynamicSupervisor';
  if (options === undefined) options = {};
  // A Map or a class instance has no own keys: read as options it would give every default.
  if (!isPlainObject(options)) {
    throw new SupervisorFlagsError('invalid_type', where, 'an options object', options);
  }
  const o = options as Record<string, unknown>;
  const known = mode === 'static' ? staticKeys : dynamicKeys;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      // Refused, where OTP ignores an unknown flag: a misspelt one would silently be its default.
      throw new SupervisorFlagsError('unknown_key', `${where}.${key}`, `a known option (${known.join(', ')})`, o[key]);
    }
  }
  const strategy = o.strategy ?? 'one_for_one';
  const strategies = mode === 'static' ? ['one_for_one', 'one_for_all', 'rest_for_one'] : ['one_for_one'];
  if (!strategies.includes(strategy as string)) {
    throw new SupervisorFlagsError('invalid_strategy', `${where}.strategy`, `one of ${strategies.map((s) => `'${s}'`).join(', ')}`, o.strategy);
  }
  const maxRestarts = o.maxRestarts ?? 3;
  if (typeof maxRestarts !== 'number' || !Number.isInteger(maxRestarts) || maxRestarts < 0) {
    throw new SupervisorFlagsError('invalid_intensity', `${where}.maxRestarts`, 'an integer ≥ 0', o.maxRestarts);
  }
  const maxSeconds = o.maxSeconds ?? 5;
  if (typeof maxSeconds !== 'number' || !Number.isFinite(maxSeconds) || maxSeconds <= 0) {
    throw new SupervisorFlagsError('invalid_period', `${where}.maxSeconds`, 'a number of seconds > 0 (not infinity)', o.maxSeconds);
  }
  const autoShutdown = o.autoShutdown ?? 'never';
  const modes = mode === 'static' ? ['never', 'any_significant', 'all_significant'] : ['never'];
  if (!modes.includes(autoShutdown as string)) {
    throw new SupervisorFlagsError('invalid_auto_shutdown', `${where}.autoShutdown`, `one of ${modes.map((s) => `'${s}'`).join(', ')}`, o.autoShutdown);
  }
  let maxChildren = Infinity;
  if (o.maxChildren !== undefined && o.maxChildren !== 'infinity') {
    if (typeof o.maxChildren !== 'number' || !Number.isInteger(o.maxChildren) || o.maxChildren < 0) {
      throw new SupervisorFlagsError('invalid_max_children', `${where}.maxChildren`, "an integer ≥ 0 or 'infinity'", o.maxChildren);
    }
    maxChildren = o.maxChildren;
  }
  const extraInput = o.extraInput;
  if (extraInput !== undefined && !isPlainObject(extraInput)) {
    throw new SupervisorFlagsError('invalid_extra_input', `${where}.extraInput`, 'a plain object', extraInput);
  }
  const label = o.label ?? (mode === 'static' ? 'supervisor' : 'dynamic-supervisor');
  if (typeof label !== 'string' || !/^[^/\s]+$/.test(label)) {
    throw new SupervisorFlagsError('invalid_label', `${where}.label`, "a label without '/' or spaces", o.label);
  }
  const children = mode === 'static' ? normalizeChildSpecs(o.children, autoShutdown as AutoShutdown, `${where}.children`) : [];
  return {
    mode,
    strategy: strategy as Strategy,
    maxRestarts,
    periodMs: maxSeconds * 1000,
    autoShutdown: autoShutdown as AutoShutdown,
    maxChildren,
    extraInput: extraInput as Record<string, unknown> | undefined,
    label,
    children,
  };
}

/**
 * Flags from options given as an object (validated now) or as a function of the spawn input
 * (Elixir's init/1: validated at start; may return 'ignore'). @internal
 */
export function flagsSource(
  options: unknown,
  mode: 'static' | 'dynamic',
): { label: string | undefined; init: (input: unknown) => SupervisorFlags | 'ignore' } {
  if (typeof options === 'function') {
    return {
      label: undefined,
      init: (input) => {
        const result = (options as (input: unknown) => unknown)(input);
        return result === 'ignore' ? 'ignore' : parseFlags(result, mode);
      },
    };
  }
  const flags = parseFlags(options, mode);
  return { label: flags.label, init: () => flags };
}

defineErrorCodes({ invalid_supervisor_flags: { category: 'bad_input', retryable: false } });

// Rebuilt as these classes when another node answers with their codes (see defineErrorClasses).
defineErrorClasses({ invalid_supervisor_flags: SupervisorFlagsError });
