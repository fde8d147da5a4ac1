/**
 * Carried by the logic `supervisor()` and `dynamicSupervisor()` return, so a child spec can tell
 * a supervisor child (default shutdown `'infinity'`, type `'supervisor'`) from a worker.
 *
 * @internal
 */
export const supervisorMarker: unique symbol = Symbol.for('xotp.supervisor');
