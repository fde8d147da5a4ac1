import type { Pid } from '../runtime/pid.js';
import { InvalidOptionError } from '../runtime/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { callBridge, type BridgeCallOptions } from '../bridge/bridgeClient.js';
import { Pool, type PoolRunOptions } from './poolClient.js';
import type { PoolStatus } from './poolManager.js';
import type { SessionState } from './sessionTable.js';

/**
 * A pool's operations, declared once: each op name maps to `[args, result]`.
 *
 * ```ts
 * type PyOps = { embed: [{ text: string }, { vector: number[] }]; ping: [undefined, 'pong'] };
 * ```
 *
 * Written as a mapped constraint rather than `Record<string, ...>` so an `interface` works too
 * (interfaces have no implicit index signature).
 */
export type PoolOps<T> = { [K in keyof T]: readonly [unknown, unknown] };

/** The argument type of op `K`. */
export type OpArgs<Ops, K extends keyof Ops> = Ops[K] extends readonly [infer A, unknown] ? A : never;
/** The result type of op `K`. */
export type OpResult<Ops, K extends keyof Ops> = Ops[K] extends readonly [unknown, infer R] ? R : never;

/** Options of a handle's `checkout` (as `Pool.checkout`). */
export interface PoolCheckoutOptions {
  session?: string;
  checkoutTimeout?: number | 'infinity';
  signal?: AbortSignal;
}

/** A worker checked out through a handle: its pid, and typed calls to it. */
export interface PoolWorker<Ops extends PoolOps<Ops>> {
  readonly pid: Pid;
  /** `callBridge` on this worker, typed by the pool's ops. Throws what `callBridge` throws. */
  call<K extends keyof Ops & string>(op: K, args: OpArgs<Ops, K>, options?: BridgeCallOptions): Promise<OpResult<Ops, K>>;
}

/** A pool bound to a runtime and a name, with its operations typed. See {@link poolHandle}. */
export interface PoolHandle<Ops extends PoolOps<Ops>> {
  readonly runtime: Runtime;
  readonly name: string;
  /** `Pool.run` with the op's argument and result types. Throws what `Pool.run` throws. */
  run<K extends keyof Ops & string>(op: K, args: OpArgs<Ops, K>, options?: PoolRunOptions): Promise<OpResult<Ops, K>>;
  /** `Pool.checkout`, handing `fn` a typed worker. */
  checkout<R>(fn: (worker: PoolWorker<Ops>) => Promise<R>, options?: PoolCheckoutOptions): Promise<R>;
  /** `Pool.status`. */
  status(): Promise<PoolStatus>;
  /** `Pool.ready`: throws PoolStartError / PoolStoppedError as it does. */
  ready(): Promise<PoolStatus>;
  /** `Pool.session`. */
  session(id: string): Promise<SessionState>;
  /** `Pool.endSession`. */
  endSession(id: string): Promise<boolean>;
}

/**
 * A typed handle on the pool `name` of `runtime`, beside the OTP-style `Pool.run(runtime, name,
 * ...)`: op names and their argument and result types are declared once, as the type parameter,
 * and a wrong op name or argument does not compile. The handle holds no state of its own (it is
 * two references), so it may be made before the pool starts and kept across pool restarts.
 *
 * @example
 * ```ts
 * const py = poolHandle<{ embed: [{ text: string }, { vector: number[] }] }>(runtime, 'py');
 * const { vector } = await py.run('embed', { text: 'hello' }, { idempotent: true });
 * ```
 * @throws InvalidOptionError when `name` is not a non-empty string.
 */
export function poolHandle<Ops extends PoolOps<Ops>>(runtime: Runtime, name: string): PoolHandle<Ops> {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError('poolHandle.name', 'a pool name', name);
  const worker = (pid: Pid): PoolWorker<Ops> => ({
    pid,
    call: (op, args, options) => callBridge(runtime, pid, op, args, options),
  });
  return {
    runtime,
    name,
    run: (op, args, options) => Pool.run(runtime, name, op, args, options),
    checkout: (fn, options) => Pool.checkout(runtime, name, (pid) => fn(worker(pid)), options),
    status: () => Pool.status(runtime, name),
    ready: () => Pool.ready(runtime, name),
    session: (id) => Pool.session(runtime, name, id),
    endSession: (id) => Pool.endSession(runtime, name, id),
  };
}
