/**
 * Value patterns for `match`, `countMatch`, `unregisterMatch` and `select`: the TypeScript
 * rendering of ETS match patterns.
 *
 * - `_` (exported as `anything`) matches any value;
 * - a plain object matches an object that has (at least) those keys, each matching (Elixir's
 *   map patterns match subsets the same way);
 * - an array matches an array of the same length, element by element;
 * - anything else matches by `Object.is` (so `1` and `'1'` differ; JS has no `1.0`).
 *
 * Guards are plain predicates on the value: `match(reg, key, { age: anything }, (v) => v.age > 1)`.
 */
export const anything: unique symbol = Symbol.for('xotp.registry.anything');

/** A value pattern (see module docs). */
export type Pattern = typeof anything | PatternObject | readonly Pattern[] | string | number | boolean | bigint | null | undefined | symbol;
export interface PatternObject {
  readonly [key: string]: Pattern;
}

/** Does `value` match `pattern`? */
export function matches(pattern: unknown, value: unknown): boolean {
  if (pattern === anything) return true;
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value) || value.length !== pattern.length) return false;
    return pattern.every((p, i) => matches(p, value[i]));
  }
  if (typeof pattern === 'object' && pattern !== null) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const v = value as Record<string, unknown>;
    return Object.keys(pattern).every((k) => k in v && matches((pattern as Record<string, unknown>)[k], v[k]));
  }
  return Object.is(pattern, value);
}

/**
 * A canonical string for a registry key, so that structured keys compare by value
 * (`['topic', 1]` is one key however it was built) and `1` differs from `'1'`.
 */
export function keyId(key: unknown): string {
  switch (typeof key) {
    case 'string':
      return `s:${key}`;
    case 'number':
      return `n:${Object.is(key, -0) ? 0 : key}`;
    case 'boolean':
      return `b:${key}`;
    case 'bigint':
      return `i:${key}`;
    case 'undefined':
      return 'u:';
    case 'symbol':
      return `y:${String(key.description)}`;
    default:
      if (key === null) return 'null';
      return `j:${stable(key)}`;
  }
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  if (value === anything) return '"$_"';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}
