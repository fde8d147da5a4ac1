/**
 * Value patterns for `match`, `countMatch`, `unregisterMatch` and `select`: the TypeScript
 * rendering of ETS match patterns.
 *
 * - `_` (exported as `anything`) matches any value;
 * - a plain object matches an object that has (at least) those keys, each matching (Elixir's
 *   map patterns match subsets the same way);
 * - an array matches an array of the same length, element by element;
 * - a Map, Set or Date matches a value equal to it (compared as registry keys are);
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
  // A Map, Set or Date has no own keys: as a subset pattern it would match every object. It
  // matches a value equal to it, the way registry keys compare.
  if (pattern instanceof Map || pattern instanceof Set || pattern instanceof Date) {
    return typeof value === 'object' && value !== null && keyId(pattern) === keyId(value);
  }
  if (typeof pattern === 'object' && pattern !== null) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const v = value as Record<string, unknown>;
    return Object.keys(pattern).every((k) => k in v && matches((pattern as Record<string, unknown>)[k], v[k]));
  }
  return Object.is(pattern, value);
}

/**
 * A canonical string for a structured registry key (array, object, Date, Map, Set), so that
 * keys compare by value: `['topic', 1]` is one key however it was built. Every part is tagged
 * with its type, so `'1'` and `1`, or the `anything` symbol and the string `'$_'`, never meet.
 * Symbols (which have no printable identity) are numbered the first time they are seen.
 */
export function keyId(key: unknown): string {
  return encode(key);
}

const symbolIds = new Map<symbol, number>();

function encode(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'undefined';
    case 'symbol': {
      let id = symbolIds.get(value);
      if (id === undefined) symbolIds.set(value, (id = symbolIds.size + 1));
      return `@${id}`;
    }
    case 'function':
      return `fn:${value.name}`;
    default:
      break;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(encode).join(',')}]`;
  if (value instanceof Date) return `Date(${value.getTime()})`;
  if (value instanceof Map) {
    const entries = [...value.entries()].map(([k, v]) => `${encode(k)}=>${encode(v)}`).sort();
    return `Map{${entries.join(',')}}`;
  }
  if (value instanceof Set) return `Set{${[...value].map(encode).sort().join(',')}}`;
  const obj = value as Record<string, unknown>;
  const proto = Object.getPrototypeOf(obj);
  const tag = proto === Object.prototype || proto === null ? '' : (proto?.constructor?.name ?? '?');
  const keys = Object.keys(obj).sort();
  return `${tag}{${keys.map((k) => `${JSON.stringify(k)}:${encode(obj[k])}`).join(',')}}`;
}
