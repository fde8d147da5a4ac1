import type { InspectionEvent, Observer } from 'xstate';
import { formatReason } from './exitReason.js';
import { serializeReason } from './serializeReason.js';
import type { Logger } from './logger.js';

/** An xstate inspector as `createRuntime({ inspect })` takes it. */
export type Inspector = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * Wraps an inspector so that it can never affect a process.
 *
 * xstate calls inspectors synchronously, in the middle of delivering an event (`@xstate.event`
 * before the target's mailbox sees it) and of finishing a step (`@xstate.snapshot`). An
 * inspector that throws there would make `cast` throw and drop the message, or leave the
 * target half-way through its step (issue 14, fault 6). Here its error is caught and logged
 * once per inspector (an inspector that throws on every event would otherwise flood the log);
 * later events still reach it.
 */
export function isolateInspector(inspect: Inspector, logger: Logger): (event: InspectionEvent) => void {
  const next = typeof inspect === 'function' ? inspect : inspect.next?.bind(inspect);
  let reported = false;
  return (event) => {
    if (next === undefined) return;
    try {
      next(readableReasons(event));
    } catch (err) {
      if (reported) return;
      reported = true;
      logger.error(`an inspector threw (ignored; further errors of this inspector are not logged): ${formatReason(err)}`, {
        event: event.type,
      });
    }
  };
}

/**
 * The event with its exit reasons in a form every inspector can serialise: an Error becomes
 * `{ name, message, code? }` where JSON would make it `{}` (issue 14, fault 2). Only the copy the
 * inspector sees changes; processes keep the reason itself. Events without an object reason
 * pass through untouched, so the common case costs one or two property reads.
 */
function readableReasons(event: InspectionEvent): InspectionEvent {
  if (event.type === '@xstate.snapshot' || event.type === '@xstate.actor') {
    const snapshot = (event as { snapshot?: { error?: unknown } }).snapshot;
    const withEvent = readableEvent(event);
    if (typeof snapshot?.error !== 'object' || snapshot.error === null) return withEvent;
    return { ...withEvent, snapshot: { ...snapshot, error: serializeReason(snapshot.error) } } as InspectionEvent;
  }
  return readableEvent(event);
}

/** The event an inspection event is about: xstate.error.actor.* carries `error`; xotp.exit and xotp.down carry `reason`. */
function readableEvent(event: InspectionEvent): InspectionEvent {
  const e = (event as { event?: { error?: unknown; reason?: unknown } }).event;
  if (e === undefined) return event;
  const error = typeof e.error === 'object' && e.error !== null;
  const reason = typeof e.reason === 'object' && e.reason !== null;
  if (!error && !reason) return event;
  return {
    ...event,
    event: { ...e, ...(error ? { error: serializeReason(e.error) } : {}), ...(reason ? { reason: serializeReason(e.reason) } : {}) },
  } as InspectionEvent;
}
