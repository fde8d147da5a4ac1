import type { InspectionEvent, Observer } from 'xstate';
import { formatReason } from './exitReason.js';
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
      next(event);
    } catch (err) {
      if (reported) return;
      reported = true;
      logger.error(`an inspector threw (ignored; further errors of this inspector are not logged): ${formatReason(err)}`, {
        event: event.type,
      });
    }
  };
}
