import type { Pid } from '../runtime/pid.js';
import type { ExitReason } from '../runtime/exitReason.js';

/** A supervisor started a child (at init, on request, or as a restart). */
export interface ChildStartedEvent {
  supervisor: Pid;
  id: string;
  pid: Pid;
  /** True when this start was a restart after an exit. */
  restart: boolean;
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
