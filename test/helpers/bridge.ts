import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AnyActorRef } from 'xstate';
import { pythonBridge, bridgeInfo, type Pid, type PythonBridgeOptions } from '../../src/index.js';
import type { TestRuntime } from '../../src/testing/index.js';

/** The example handlers (python/xotp_bridge/examples.py). */
export const EXAMPLES = 'xotp_bridge.examples';

/** A script serving the examples plus `ignore_sigterm` (test/fixtures/xotp_bridge_stubborn.py). */
export const STUBBORN_SCRIPT = fileURLToPath(new URL('../fixtures/xotp_bridge_stubborn.py', import.meta.url));
/** A script whose first frame is not `ready`. */
export const BAD_HANDSHAKE_SCRIPT = fileURLToPath(new URL('../fixtures/xotp_bridge_bad_handshake.py', import.meta.url));
/** A Node program owning a bridge (prints the Python OS pid). */
export const OWNER_PROCESS = fileURLToPath(new URL('../fixtures/ownerProcess.ts', import.meta.url));

/** `pythonBridge` serving the example handlers, with `options` on top. */
export function examples(options: Omit<PythonBridgeOptions, 'module' | 'script'> = {}) {
  return pythonBridge({ module: EXAMPLES, ...options });
}

export interface StartedBridge {
  pid: Pid;
  osPid: number;
  /** Kept so its snapshot can be read after the process exited (`actorOf` forgets dead pids). */
  actor: AnyActorRef;
}

/** Starts a bridge and waits for its handshake. */
export async function startBridge(rt: TestRuntime, logic = examples(), name?: string): Promise<StartedBridge> {
  const pid = await rt.start(logic, name === undefined ? undefined : { name });
  if (pid === 'ignore') throw new Error('bridge start ignored');
  const info = await bridgeInfo(rt, pid);
  return { pid, osPid: info.osPid!, actor: rt.actorOf(pid)! };
}

/** A machine state value as a dotted path: `'stopping.asking'`. */
export function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  const [key, inner] = Object.entries(value as Record<string, unknown>)[0]!;
  return `${key}.${statePath(inner)}`;
}

/** The bridge's current state, as a dotted path. */
export function stateOf(actor: AnyActorRef): string {
  return statePath(actor.getSnapshot().value);
}

/**
 * Records the bridge's states from now on (the current one first), each once when entered.
 * Returns the live array.
 */
export function recordStates(actor: AnyActorRef): string[] {
  const seen = [stateOf(actor)];
  actor.subscribe({
    next: (s) => {
      const path = statePath(s.value);
      if (seen[seen.length - 1] !== path) seen.push(path);
    },
    error: () => undefined,
  });
  return seen;
}

/** Resolves when the bridge enters `state` (at once if it is there). */
export function whenState(actor: AnyActorRef, state: string): Promise<void> {
  return new Promise((resolve) => {
    if (stateOf(actor) === state) return resolve();
    const sub = actor.subscribe({
      next: (s) => {
        if (statePath(s.value) === state) {
          sub.unsubscribe();
          resolve();
        }
      },
      error: () => undefined,
    });
  });
}

/** How the OS process ended, as the bridge saw it (kept in its context). */
export function osExitOf(actor: AnyActorRef): { code: number | null; signal: string | null } | undefined {
  return (actor.getSnapshot().context as { core: { exit?: { code: number | null; signal: string | null } } }).core.exit;
}

/**
 * Whether an OS process is still running. A zombie (exited, not yet reaped by whoever adopted
 * it) counts as gone: it runs no code and holds no resources but its pid.
 */
export function osAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false; // vanished between the two checks
  }
}

/** `process.kill(pid, 0)` throws ESRCH: the pid no longer names any process, zombie or not. */
export function osPidGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Polls (every 10 ms of real time, for at most `limitMs`) until the OS process `pid` no longer
 * runs. Used only where nothing in this process can tell us: a Python process that is not our
 * child (its owner was SIGKILLed), or one killed outright whose exit is not observable as an event.
 */
export async function waitOsGone(pid: number, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (!osAlive(pid)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export type Tracked<T> = { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown; promise: Promise<unknown> };

/** Tracks how a promise settled, without ever leaving a rejection unhandled. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const s = { state: 'pending' } as Tracked<T>;
  s.promise = promise.then(
    (value) => Object.assign(s, { state: 'resolved', value }),
    (error: unknown) => Object.assign(s, { state: 'rejected', error }),
  );
  return s;
}

/** Settles `promise` into its rejection (or fails if it resolved). */
export function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}
