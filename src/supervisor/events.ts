import type { Pid } from '../runtime/pid.js';
import type { ExitReason } from '../runtime/exitReason.js';

/**
 * A supervisor started a child (at init, on request, or as a restart). `id` is the child's spec
 * id; a dynamic child without one is named by the readable segment of its actor id (`worker-6`),
 * which it keeps across restarts, as every event about it does.
 */
export interface ChildStartedEvent {
  supervisor: Pid;
  id: string;
  pid: Pid;
  /** True when this start was a restart after an exit. */
  restart: boolean;
  /** How many times this child has been restarted, this start included: its generation. */
  restarts: number;
  /** The pid this start replaces (it exited, or was terminated for a restart of its group). */
  previousPid?: Pid;
}

/** A supervised child exited on its own (not terminated by its supervisor). */
export interface ChildExitedEvent {
  supervisor: Pid;
  id: string;
  pid: Pid;
  reason: ExitReason;
}

/** A child could not be (re)started. */
export interface ChildStartFailedEvent {
  supervisor: Pid;
  id: string;
  reason: ExitReason;
}

/** A supervisor reached its restart intensity and is shutting down. */
export interface IntensityReachedEvent {
  supervisor: Pid;
  id: string;
  maxRestarts: number;
  maxSeconds: number;
}

/** A supervisor finished shutting its children down and is exiting with `reason`. */
export interface SupervisorShutdownEvent {
  supervisor: Pid;
  reason: ExitReason;
}

/** A child ended with another reason than the shutdown expected (OTP's shutdown_error). */
export interface ShutdownErrorEvent {
  supervisor: Pid;
  id: string;
  pid: Pid;
  reason: ExitReason;
}

declare module '../runtime/events.js' {
  interface RuntimeEventMap {
    'supervisor.childStarted': [ChildStartedEvent];
    'supervisor.childExited': [ChildExitedEvent];
    'supervisor.childStartFailed': [ChildStartFailedEvent];
    'supervisor.intensityReached': [IntensityReachedEvent];
    'supervisor.shutdown': [SupervisorShutdownEvent];
    'supervisor.shutdownError': [ShutdownErrorEvent];
  }
}
