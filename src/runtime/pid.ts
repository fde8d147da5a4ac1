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
 * JSON.stringify(pid);      // '{"node":"app","id":3,"creation":…}'
 * Pid.parse('<app.3>');     // the same pid
 * ```
 */
export class Pid {
  readonly node: string;
  readonly id: number;
  /**
   * Which runtime instance of that name made it (OTP's node "creation"). Two runtimes may share
   * a name (every test runtime is called `test` by default); a pid carrying another creation
   * never reaches this runtime's processes. Absent on hand-written pids, which match by name.
   */
  readonly creation: number | undefined;

  constructor(node: string, id: number, creation?: number) {
    this.node = node;
    this.id = id;
    this.creation = creation;
  }

  /** Parses the printed form `<node.id>`; returns `undefined` for anything else. */
  static parse(text: string): Pid | undefined {
    const match = /^<([A-Za-z][\w-]*)\.(\d+)>$/.exec(text);
    return match ? new Pid(match[1]!, Number(match[2])) : undefined;
  }

  /** Turns a pid-shaped value (for example one read back from JSON) into a `Pid`. */
  static from(value: PidLike): Pid {
    return value instanceof Pid ? value : new Pid(value.node, value.id, value.creation);
  }

  /** True when both name the same process. */
  static equals(a: PidLike | undefined, b: PidLike | undefined): boolean {
    if (a === undefined || b === undefined || a.id !== b.id || a.node !== b.node) return false;
    return a.creation === undefined || b.creation === undefined || a.creation === b.creation;
  }

  toString(): string {
    return `<${this.node}.${this.id}>`;
  }

  toJSON(): { node: string; id: number; creation?: number } {
    return this.creation === undefined
      ? { node: this.node, id: this.id }
      : { node: this.node, id: this.id, creation: this.creation };
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

/** The structural form of a pid: what survives serialisation. */
export interface PidLike {
  readonly node: string;
  readonly id: number;
  readonly creation?: number | undefined;
}

/** True for a `Pid` or any value of the same shape. */
export function isPid(value: unknown): value is PidLike {
  if (value instanceof Pid) return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { node?: unknown; id?: unknown };
  return typeof v.node === 'string' && Number.isInteger(v.id);
}
