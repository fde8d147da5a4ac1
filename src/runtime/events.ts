import type { Pid } from './pid.js';
import type { ExitReason } from './exitReason.js';

/** A process was spawned. `id` is its readable place in the tree (`app/pool/worker-3`). */
export interface ProcessSpawnedEvent {
  pid: Pid;
  parent: Pid;
  id: string;
  name: string | undefined;
}

/** A process ended. */
export interface ProcessExitedEvent {
  pid: Pid;
  id: string;
  reason: ExitReason;
}

/**
 * An exit signal reached a live process and did something: `'trapped'` (delivered as an
 * `xotp.exit` event), `'ignored'` (a `normal` signal to a non-trapping process) or `'exit'` (it
 * made the process exit with `reason`).
 */
export interface SignalEvent {
  from: Pid;
  to: Pid;
  reason: ExitReason;
  outcome: 'trapped' | 'ignored' | 'exit';
}

/** Two processes became linked, or unlinked. */
export interface LinkEvent {
  a: Pid;
  b: Pid;
}

/** A DOWN notification was delivered for a monitor. */
export interface DownDeliveredEvent {
  ref: string;
  target: Pid | string;
  watcher: Pid | undefined;
  reason: ExitReason;
}

/** A local name was registered or freed. */
export interface NameEvent {
  name: string;
  pid: Pid;
}

/** A reply came back for a call that had already given up (timeout, abort, exit); it was dropped. */
export interface LateReplyEvent {
  ref: number;
}

/**
 * The runtime's typed event bus: one eventemitter3 instance per runtime. Other layers add
 * their events by augmenting this interface (declaration merging), so one bus carries all of
 * a service's telemetry.
 *
 * @example
 * ```ts
 * runtime.events.on('process.exited', ({ pid, reason }) => console.log(String(pid), reason));
 * ```
 */
export interface RuntimeEventMap {
  'process.spawned': [ProcessSpawnedEvent];
  'process.exited': [ProcessExitedEvent];
  'signal': [SignalEvent];
  'link': [LinkEvent];
  'unlink': [LinkEvent];
  'down': [DownDeliveredEvent];
  'name.registered': [NameEvent];
  'name.unregistered': [NameEvent];
  'call.lateReply': [LateReplyEvent];
  'runtime.shutdown': [{ name: string }];
}
