import { InvalidOptionError } from './errors.js';

/**
 * A check turns an untrusted option value into a typed one or throws `InvalidOptionError`
 * naming the key. Every public factory validates its options with these at the boundary, so a
 * wrong shape fails where it was written, not somewhere deep inside a process later.
 *
 * @internal
 */
export type Check<T> = (value: unknown, key: string) => T;

type Checked<S> = { [K in keyof S]: S[K] extends Check<infer T> ? T : never };

/**
 * Validates a plain options object against a schema of checks. Unknown keys are an error (a
 * misspelt option must not be silently ignored); `undefined` means "not given".
 *
 * @internal
 */
export function validateOptions<S extends Record<string, Check<unknown>>>(
  where: string,
  value: unknown,
  schema: S,
): Checked<S> {
  if (value === undefined) value = {};
  if (!isPlainObject(value)) throw notPlain(where, 'a plain options object', value);
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!Object.prototype.hasOwnProperty.call(schema, key)) {
      throw new InvalidOptionError(
        `${where}.${key}`,
        `a known option (${Object.keys(schema).join(', ')})`,
        input[key],
        'unknown option',
      );
    }
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema)) {
    out[key] = schema[key]!(input[key], `${where}.${key}`);
  }
  return out as Checked<S>;
}

/** @internal */
export function optional<T>(check: Check<T>): Check<T | undefined>;
export function optional<T>(check: Check<T>, fallback: T): Check<T>;
export function optional<T>(check: Check<T>, fallback?: T): Check<T | undefined> {
  return (value, key) => (value === undefined ? fallback : check(value, key));
}

/** @internal */
export const isString: Check<string> = (value, key) => {
  if (typeof value !== 'string') throw new InvalidOptionError(key, 'a string', value);
  return value;
};

/** @internal */
export function matching(pattern: RegExp, description: string): Check<string> {
  return (value, key) => {
    if (typeof value !== 'string' || !pattern.test(value)) {
      throw new InvalidOptionError(key, description, value);
    }
    return value;
  };
}

/**
 * Whether `o` is "no options": an empty object literal. A Map or an array has no keys to loop
 * over either, so it is not; the validator then refuses it. The fast paths' first check.
 * @internal
 */
export function isEmptyOptions(o: unknown): boolean {
  if (typeof o !== 'object' || o === null || Object.getPrototypeOf(o) !== Object.prototype) return false;
  for (const _ in o) return false;
  return true;
}

/** A string with something in it (`matching` any character). @internal */
export const nonEmptyString = (description: string): Check<string> => matching(/./s, description);

/** @internal */
export const isBoolean: Check<boolean> = (value, key) => {
  if (typeof value !== 'boolean') throw new InvalidOptionError(key, 'a boolean', value);
  return value;
};

/** @internal */
export const isFunction: Check<(...args: never[]) => unknown> = (value, key) => {
  if (typeof value !== 'function') throw new InvalidOptionError(key, 'a function', value);
  return value as (...args: never[]) => unknown;
};

/** @internal */
export function integer(min = 0, max = Number.MAX_SAFE_INTEGER): Check<number> {
  return (value, key) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`;
      throw new InvalidOptionError(key, `an integer ${range}`, value);
    }
    return value;
  };
}

/** A duration in ms (an integer ≥ 0) or `'infinity'` / `Infinity`, returned as a number. @internal */
export const isTimeout: Check<number> = (value, key) => {
  if (value === 'infinity' || value === Infinity) return Infinity;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidOptionError(key, "a timeout in ms (an integer ≥ 0) or 'infinity'", value);
  }
  return value;
};

/** @internal */
export function oneOf<const T extends readonly unknown[]>(...choices: T): Check<T[number]> {
  return (value, key) => {
    if (!choices.includes(value)) {
      throw new InvalidOptionError(key, `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`, value);
    }
    return value as T[number];
  };
}

/** @internal */
export function instanceOf<T>(ctor: abstract new (...args: never[]) => T, description: string): Check<T> {
  return (value, key) => {
    if (!(value instanceof ctor)) throw new InvalidOptionError(key, description, value);
    return value;
  };
}

/** Accepts anything (documented as free-form). @internal */
export const anything: Check<unknown> = (value) => value;

/**
 * True for an object literal or `Object.create(null)`: the only things read as options. A Map,
 * an array or a class instance has no own enumerable option keys, so reading it as options
 * would silently give every default (the seed system's `{pool_name, max_retries}` as a Map).
 *
 * @internal
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The error for a value that should have been a plain object, with a hint for the usual
 * mistakes (a Map, an array).
 *
 * @internal
 */
export function notPlain(key: string, expected: string, value: unknown): InvalidOptionError {
  let hint: string | undefined;
  if (value instanceof Map) hint = 'a Map is not read as options: pass a plain object (Object.fromEntries(map) makes one)';
  else if (Array.isArray(value)) hint = 'an array is not read as options: pass a plain object';
  return new InvalidOptionError(key, expected, value, hint);
}
