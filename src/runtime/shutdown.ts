import type { Pid } from './pid.js';
import { formatReason, type ExitReason } from './exitReason.js';
import { InvalidOptionError, TimeoutError } from './errors.js';
import type { RuntimeClock } from './clock.js';
import { Status, type ProcessRecord } from './processRecord.js';
import type { ProcessTable } from './processTable.js';
import { validateOptions, optional, isTimeout, isPlainObject } from './validate.js';

/**
 * Ending processes from outside: `runtime.stop`'s argument checks and deadline, and the
 * shutdown procedure that stops everything.
 */

/** Options of `runtime.stop`. */
export interface StopOptions {
  /** Milliseconds to wait for the process to end, or `'infinity'` (default). */
  timeout?: number | 'infinity';
}

/** Options of `runtime.shutdown`. */
export interface ShutdownOptions {
  /** Per process: how long to wait for it to stop before killing it. Default 5000 ms. */
  timeout?: number | 'infinity';
}

const DEFAULT_SHUTDOWN_TIMEOUT = 5000;
/** @internal */
export const shutdownSchema = { timeout: optional(isTimeout, DEFAULT_SHUTDOWN_TIMEOUT) };

/** Rounds of ordinary stops for stragglers before anything still there is killed outright. */
const STOP_ROUNDS = 3;

/** What the shutdown procedure uses of the runtime (its public stop and exit). @internal */
export interface ShutdownHost {
  stop(target: Pid, reason: ExitReason, options: { timeout: number }): Promise<unknown>;
  exit(target: Pid, reason: ExitReason): boolean;
}

/**
 * Stops every process of `table`, as `runtime.shutdown` promises: top-level processes one at a
 * time in reverse start order with reason `'shutdown'` (each takes its own subtree down), then
 * whatever is left the same way; a process that has not exited within `timeout` ms is killed.
 *
 * @internal
 */
export async function stopAllProcesses(host: ShutdownHost, table: ProcessTable, timeout: number): Promise<void> {
  const stopOne = async (rec: ProcessRecord) => {
    if (rec.status === Status.Dead) return;
    try {
      await host.stop(rec.pid, 'shutdown', { timeout });
    } catch {
      host.exit(rec.pid, 'kill');
      await table.whenDead(rec);
    }
  };
  const topLevel = [...table.records.values()].filter((r) => r.parent === undefined).reverse();
  for (const rec of topLevel) await stopOne(rec);
  // Stragglers: processes placed under others but not linked to them, or spawned while we
  // were stopping. After a few rounds, anything that keeps coming back is killed outright.
  for (let round = 0; table.records.size > 0; round++) {
    const rest = [...table.records.values()].reverse();
    for (const rec of rest) {
      if (round < STOP_ROUNDS) await stopOne(rec);
      else {
        host.exit(rec.pid, 'kill');
        await table.whenDead(rec);
      }
    }
  }
}

const stopSchema = { timeout: optional(isTimeout, Infinity) };

/**
 * Checks `stop`'s reason and options; returns the timeout in ms (`Infinity` by default).
 *
 * @internal
 */
export function checkStopArguments(reason: ExitReason, options: StopOptions | undefined): number {
  if (looksLikeStopOptions(reason)) {
    throw new InvalidOptionError(
      'stop.reason',
      "an exit reason ('normal', 'shutdown', { shutdown: detail }, an Error, ...)",
      reason,
      `that looks like stop's options given as the reason: the signature is stop(target, reason, { timeout }), e.g. stop(pid, 'normal', ${formatReason(reason)})`,
    );
  }
  return options === undefined ? Infinity : validateOptions('stop', options, stopSchema).timeout;
}

/**
 * A reason that is a plain object whose keys are all stop options (`{ timeout: 1000 }`) is
 * almost certainly options passed one slot early; taken as a reason, the process would exit
 * with it and a supervisor would restart it and report a crash. Reasons with any other key
 * (`{ shutdown: detail }`, a custom error term) are reasons.
 */
function looksLikeStopOptions(reason: unknown): boolean {
  if (!isPlainObject(reason)) return false;
  let keys = 0;
  for (const key in reason) {
    if (!Object.prototype.hasOwnProperty.call(stopSchema, key)) return false;
    keys++;
  }
  return keys > 0;
}

/** `promise`, or a `TimeoutError` for `operation` after `timeout` ms of `clock`. @internal */
export function withTimeout<T>(clock: RuntimeClock, promise: Promise<T>, timeout: number, operation: string, target: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new TimeoutError(operation, timeout, target)), timeout);
    promise.then((value) => {
      clock.clearTimeout(timer);
      resolve(value);
    });
  });
}
