import type { ExitReason } from './exitReason.js';

const marker: unique symbol = Symbol.for('xotp.exitWith');

/** The output of an actor that ends with a chosen exit reason. */
export interface ExitWithOutput {
  readonly [marker]: true;
  readonly reason: ExitReason;
}

/**
 * Lets an xstate machine (or any logic) end with an exit reason of its choosing: make it the
 * machine's `output` (xstate takes a machine's output from its root `output`, evaluated when it
 * reaches a top-level final state). Being done otherwise means `'normal'`.
 *
 * @example
 * ```ts
 * createMachine({ states: { ..., stopped: { type: 'final' } }, output: ({ context }) => exitWith(context.reason) })
 * ```
 */
export function exitWith(reason: ExitReason): ExitWithOutput {
  return { [marker]: true, reason };
}

/** @internal */
export function isExitWith(output: unknown): output is ExitWithOutput {
  return typeof output === 'object' && output !== null && (output as Record<symbol, unknown>)[marker] === true;
}
