import { AbortError, InvalidOptionError, NoProcessError, ProcessExitError, describeTarget } from '../runtime/errors.js';
import { validateOptions, optional, isTimeout, instanceOf, nonEmptyString } from '../runtime/validate.js';
import type { Runtime, Target } from '../runtime/runtime.js';
import { BridgeExitedError, BridgeNotRunningError } from './bridgeErrors.js';
import { Status, type ProcessRecord } from '../runtime/processRecord.js';
import { mailboxIdle } from '../runtime/xstateInternals.js';
import { BridgeCore, type BridgeCallRequest, type BridgeInfo, type DirectReceiver } from './bridgeCore.js';

/** Options of `callBridge`. */
export interface BridgeCallOptions {
  /** ms; default the bridge's `callTimeout`. A late reply is dropped and counted. */
  timeout?: number | 'infinity';
  /** Aborting rejects the call with AbortError and sends Python a cancel frame. */
  signal?: AbortSignal;
  /**
   * The session the call belongs to: Python handlers see it as `ctx.session` and keep state
   * private to it in `ctx.state` (a pool passes its `Pool.run` session here).
   */
  session?: string;
}

/**
 * Call tokens (a call's own id, to cancel it on abort), counted for the whole Node process on
 * purpose: a token only has to be unique among one bridge's calls, and a process-wide counter
 * is unique everywhere, costs one increment on the call path, and holds nothing a runtime could
 * see of another's (only the bridge that got the call looks its token up).
 */
let tokenSeq = 0;

const callBridgeSchema = {
  timeout: optional(isTimeout),
  signal: optional(instanceOf(AbortSignal, 'an AbortSignal')),
  session: optional(nonEmptyString('a non-empty session id')),
};

function isPlainCallOptions(o: BridgeCallOptions): o is { timeout?: number; signal?: AbortSignal; session?: string } {
  // A Map or an array has no keys to loop over: only an object literal takes the hot path.
  if (typeof o !== 'object' || o === null || Object.getPrototypeOf(o) !== Object.prototype) return false;
  for (const key in o) if (key !== 'timeout' && key !== 'signal' && key !== 'session') return false;
  const t = o.timeout;
  return (
    (t === undefined || (typeof t === 'number' && Number.isInteger(t) && t >= 0)) &&
    (o.signal === undefined || o.signal instanceof AbortSignal) &&
    (o.session === undefined || (typeof o.session === 'string' && o.session.length > 0))
  );
}

/**
 * Calls operation `op` of a bridge's Python process with `args` (any JSON value).
 *
 * @throws PythonError if the handler raised (only this call fails); TimeoutError after the
 *   deadline; AbortError on abort; BridgeNotRunningError if the bridge is not running or is
 *   stopping; BridgeExitedError if the process exited while the call was pending;
 *   BridgeOverloadedError past `maxPending`; PayloadTooLargeError past `maxFrameBytes`.
 */
export function callBridge<R = unknown>(
  runtime: Runtime,
  bridge: Target,
  op: string,
  args?: unknown,
  options: BridgeCallOptions = {},
): Promise<R> {
  let timeout: number | undefined;
  let signal: AbortSignal | undefined;
  let session: string | undefined;
  try {
    // Hot path: no options (or only the known ones, well typed) skip the generic validator.
    ({ timeout, signal, session } = isPlainCallOptions(options) ? options : validateOptions('callBridge', options, callBridgeSchema));
    if (typeof op !== 'string' || op.length === 0) throw new InvalidOptionError('callBridge.op', 'a non-empty operation name', op);
  } catch (err) {
    return Promise.reject(err);
  }
  // The direct path (DESIGN.md "Hot paths"): a ready bridge that is alive and between events
  // gets the call from here, straight to its pipe. An abort signal, an inspector (which must see
  // the call as an event) or any other state takes the machine's path below.
  const rec = signal === undefined ? openRecord(runtime, bridge) : undefined;
  if (rec !== undefined) return (rec.behaviour as BridgeCore).direct<R>(runtime, rec.actor, { bridge: 'call', op, args, token: undefined, timeout, session });
  return callThroughKernel<R>(runtime, bridge, op, args, timeout, signal, session);
}

/** The bridge's record when a call may take the direct path: ready, alive, between events, not inspected. */
function openRecord(runtime: Runtime, bridge: Target): ProcessRecord | undefined {
  if (runtime.delivery.inspected) return undefined;
  const rec = runtime.recordFor(bridge);
  if (rec === undefined) return undefined;
  const core = rec.behaviour;
  return core instanceof BridgeCore && core.open && rec.status === Status.Alive && mailboxIdle(rec.actor) ? rec : undefined;
}

/**
 * `callBridge`'s direct path for a client that settles its own caller (a pool's `Pool.run`):
 * sends the call with `to` as its receiver and returns true, or returns false having sent
 * nothing when the call cannot take the direct path (then `callBridge` it). The arguments are
 * the client's, already checked: `op` a non-empty string, `timeout` a number of ms or Infinity.
 *
 * @internal
 */
export function callBridgeWith(runtime: Runtime, bridge: Target, op: string, args: unknown, timeout: number | undefined, to: DirectReceiver): boolean {
  const rec = openRecord(runtime, bridge);
  if (rec === undefined) return false;
  (rec.behaviour as BridgeCore).send(runtime, rec.actor, { bridge: 'call', op, args, token: undefined, timeout, session: undefined }, to);
  return true;
}

/**
 * Whether `bridge` names a live local process that is not a Python bridge (a server, a machine):
 * refused at once, rather than sent a bridge request that one would ignore (and the caller wait
 * forever, the bridge's own deadline never armed) or answer as if it were a bridge. A remote
 * target cannot be told apart here: the other node's bridge answers.
 */
function notABridge(runtime: Runtime, bridge: Target): boolean {
  const rec = runtime.recordFor(bridge);
  return rec !== undefined && rec.status === Status.Alive && !(rec.behaviour instanceof BridgeCore);
}

async function callThroughKernel<R>(
  runtime: Runtime,
  bridge: Target,
  op: string,
  args: unknown,
  timeout: number | undefined,
  signal: AbortSignal | undefined,
  session: string | undefined,
): Promise<R> {
  if (notABridge(runtime, bridge)) throw new BridgeNotRunningError(describeTarget(bridge), 'not a Python bridge');
  const token = `c${++tokenSeq}`;
  const request: BridgeCallRequest = { bridge: 'call', op, args, token, ...(timeout !== undefined ? { timeout } : {}), ...(session !== undefined ? { session } : {}) };
  try {
    // The bridge enforces the deadline itself (so it can cancel in Python and count late replies).
    return await runtime.call<R>(bridge, request, { timeout: 'infinity', ...(signal ? { signal } : {}) });
  } catch (err) {
    if (err instanceof AbortError) {
      try {
        runtime.cast(bridge, { bridge: 'cancel', token });
      } catch {
        // The bridge is gone: nothing to cancel.
      }
      throw err;
    }
    if (err instanceof NoProcessError) throw new BridgeNotRunningError(describeTarget(bridge), 'not running');
    if (err instanceof ProcessExitError) {
      throw new BridgeExitedError(describeTarget(bridge), null, null, [], `the bridge process ended (${String(err.reason)})`);
    }
    throw err;
  }
}

/**
 * The bridge's state, OS pid, handshake details and counters.
 *
 * @throws NoProcessError when no bridge runs there (nothing, or a process that is not a bridge).
 */
export function bridgeInfo(runtime: Runtime, bridge: Target): Promise<BridgeInfo> {
  if (notABridge(runtime, bridge)) return Promise.reject(new NoProcessError(bridge, 'bridgeInfo', 'A process runs there, but it is not a Python bridge'));
  return runtime.call<BridgeInfo>(bridge, { bridge: 'info' }, { timeout: 'infinity' });
}


/**
 * Resolves with the bridge's info once it has finished its handshake (at once if it has).
 *
 * @throws the bridge's start failure (BridgeStartupError / BridgeExitedError) if it never gets
 *   ready; BridgeNotRunningError if it is stopping or gone.
 */
export async function awaitBridgeReady(runtime: Runtime, bridge: Target): Promise<BridgeInfo> {
  if (notABridge(runtime, bridge)) throw new BridgeNotRunningError(describeTarget(bridge), 'not a Python bridge');
  try {
    const info = await runtime.call<BridgeInfo>(bridge, { bridge: 'awaitReady' }, { timeout: 'infinity' });
    if (info.state !== 'ready') throw new BridgeNotRunningError(describeTarget(bridge), info.state);
    return info;
  } catch (err) {
    if (err instanceof NoProcessError) throw new BridgeNotRunningError(describeTarget(bridge), 'not running');
    throw err;
  }
}
