/** An Error as it travels to a viewer or an inspector: what `JSON.stringify` would have lost. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: unknown;
  /** The error's own enumerable fields (a PythonError's `pythonType`, an exit code, ...). */
  [field: string]: unknown;
}

const MAX_DEPTH = 6;

/**
 * An exit reason (any value) as plain JSON data that reads the same everywhere: an `Error`
 * becomes `{ name, message, code?, stack?, cause? }` plus its own fields (JSON alone turns it into
 * `{}`), a pid `'<app.3>'`, `'shutdown'` and the other atoms stay strings, and objects such as
 * `{ shutdown: detail }` keep their shape with the same rules inside. Cycles, functions,
 * symbols and bigints become short strings, so the result always survives `JSON.stringify`.
 *
 * @example
 * ```ts
 * serializeReason(new Error('boom'));        // { name: 'Error', message: 'boom' }
 * serializeReason({ shutdown: 'drained' });  // { shutdown: 'drained' }
 * ```
 */
export function serializeReason(reason: unknown, options: { stack?: boolean } = {}): unknown {
  return walk(reason, options.stack === true, 0, new Set());
}

function walk(value: unknown, stack: boolean, depth: number, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'undefined':
      return 'undefined';
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
  }
  if (value === null) return null;
  const obj = value as object;
  if (isPidShaped(obj)) return `<${obj.node}.${obj.id}>`;
  if (seen.has(obj)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[…]';
  seen.add(obj);
  try {
    if (obj instanceof Error) {
      const out: SerializedError = { name: obj.name, message: obj.message };
      const code = (obj as { code?: unknown }).code;
      if (typeof code === 'string' || typeof code === 'number') out.code = String(code);
      for (const [k, v] of Object.entries(obj)) {
        if (k === 'code' || k === 'name' || k === 'message' || k === 'stack' || k === 'cause') continue;
        out[k] = walk(v, stack, depth + 1, seen);
      }
      if (obj.cause !== undefined) out.cause = walk(obj.cause, stack, depth + 1, seen);
      if (stack && typeof obj.stack === 'string') out.stack = obj.stack;
      return out;
    }
    if (Array.isArray(obj)) return obj.map((v) => walk(v, stack, depth + 1, seen));
    if (obj instanceof Map) return { map: [...obj].map(([k, v]) => [walk(k, stack, depth + 1, seen), walk(v, stack, depth + 1, seen)]) };
    if (obj instanceof Set) return { set: [...obj].map((v) => walk(v, stack, depth + 1, seen)) };
    if (obj instanceof Date) return obj.toISOString();
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return walk(toJSON.call(obj), stack, depth + 1, seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = walk(v, stack, depth + 1, seen);
    return out;
  } finally {
    seen.delete(obj);
  }
}

function isPidShaped(value: object): value is { node: string; id: number } {
  const v = value as { node?: unknown; id?: unknown };
  return typeof v.node === 'string' && Number.isInteger(v.id);
}
