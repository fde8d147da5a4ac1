import { Pid } from './pid.js';
import { NotSerializableError } from './errors.js';

/**
 * Refuses a payload that would not arrive as it was sent over a transport (JSON): a function, a
 * symbol, a bigint, NaN or ±Infinity, a cycle, `undefined` inside an array, or any class
 * instance other than a `Pid` (a Map, a Set, a Date, an Error would arrive as `{}` or a string).
 * `undefined` as a property value is allowed: it arrives as an absent key, which reads the same.
 *
 * @throws NotSerializableError naming the path of the first offending value.
 */
export function checkSerializable(value: unknown, operation: string): void {
  const problem = find(value, '$', new Set());
  if (problem !== undefined) throw new NotSerializableError(operation, problem.path, problem.what);
}

function find(value: unknown, path: string, seen: Set<object>): { path: string; what: string } | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { path, what: String(value) };
    case 'bigint':
      return { path, what: 'a bigint' };
    case 'symbol':
      return { path, what: 'a symbol' };
    case 'function':
      return { path, what: 'a function' };
  }
  if (value === null || value instanceof Pid) return undefined;
  const obj = value as object;
  if (seen.has(obj)) return { path, what: 'a cycle' };
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        if (obj[i] === undefined) return { path: `${path}[${i}]`, what: 'undefined in an array (JSON makes it null)' };
        const p = find(obj[i], `${path}[${i}]`, seen);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'a class';
      return { path, what: `an instance of ${name} (only plain objects, arrays and pids travel)` };
    }
    for (const key of Object.keys(obj)) {
      const p = find((obj as Record<string, unknown>)[key], `${path}.${key}`, seen);
      if (p !== undefined) return p;
    }
    return undefined;
  } finally {
    seen.delete(obj);
  }
}
