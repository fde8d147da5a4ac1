const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * A process identifier: a small serialisable value (`{ node, id }`), printed `<node.id>`.
 *
 * A pid is never an `ActorRef`: the runtime maps it to an actor. Ids are never reused within a
 * runtime, so a stale pid can never reach a newer process; messages to it answer `noproc`.
 *
 * Any object with a string `node` and an integer `id` is accepted where a pid is expected, so a
 * pid that went through `JSON.stringify` / `JSON.parse` still works.
 *
 * @example
 * ```ts
 * const pid = runtime.spawn(logic);
 * String(pid);              // '<app.3>'
 * JSON.stringify(pid);      // '{"node":"app","id":3}'
 * Pid.parse('<app.3>');     // the same pid
 * ```
 */
export class Pid {
  readonly node: string;
  readonly id: number;

  constructor(node: string, id: number) {
    this.node = node;
    this.id = id;
  }

  /** Parses the printed form `<node.id>`; returns `undefined` for anything else. */
  static parse(text: string): Pid | undefined {
    const match = /^<([A-Za-z][\w-]*)\.(\d+)>$/.exec(text);
    return match ? new Pid(match[1]!, Number(match[2])) : undefined;
  }

  /** Turns a pid-shaped value (for example one read back from JSON) into a `Pid`. */
  static from(value: PidLike): Pid {
    return value instanceof Pid ? value : new Pid(value.node, value.id);
  }

  /** True when both name the same process. */
  static equals(a: PidLike | undefined, b: PidLike | undefined): boolean {
    return a !== undefined && b !== undefined && a.id === b.id && a.node === b.node;
  }

  toString(): string {
    return `<${this.node}.${this.id}>`;
  }

  toJSON(): { node: string; id: number } {
    return { node: this.node, id: this.id };
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

/** The structural form of a pid: what survives serialisation. */
export interface PidLike {
  readonly node: string;
  readonly id: number;
}

/** True for a `Pid` or any value of the same shape. */
export function isPid(value: unknown): value is PidLike {
  if (value instanceof Pid) return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { node?: unknown; id?: unknown };
  return typeof v.node === 'string' && Number.isInteger(v.id);
}
