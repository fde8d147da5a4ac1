import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { fromCallback, type AnyActorRef } from 'xstate';
import { runtimeOf } from '../runtime/runtime.js';
import { recordOf } from '../runtime/processRecord.js';
import type { Prepared } from '../runtime/messages.js';
import { FrameDecoder, encodeFrame } from './frameCodec.js';
import { resolvePython, resolvePythonNow } from './pythonInterpreter.js';
import { spawnInput, type BridgeSettings } from './bridgeSettings.js';

/** What the bridge machine needs to start its OS process. @internal */
export interface PythonProcessInput {
  /** Who owns it, for leak reports and log lines (`app/py/worker-1 <app.7>`). */
  owner: string;
  /** The command, resolved to the real interpreter (`resolvePython`) with `env` and `cwd`. */
  python: string;
  argv: string[];
  /** The environment the user gave the process: this Node process's, as it is at spawn, and the bridge's `env`. */
  env: NodeJS.ProcessEnv;
  /** What xotp adds for the Python side (PYTHONPATH, XOTP_BRIDGE_*); it does not change which interpreter the command names. */
  bridgeEnv: Record<string, string>;
  cwd: string | undefined;
  maxFrameBytes: number;
}

/**
 * What the bridge machine gives its process actor: what the spawn's input is made from, when the
 * runtime's spawn did not prepare it (see `PreparedLaunch`). @internal
 */
export interface PythonProcessSpec {
  settings: BridgeSettings;
  /** The bridge's id. */
  owner: string;
  /** Variables from the bridge's spawn input (see `bridgeSpawnEnv`). */
  extraEnv: Record<string, string> | undefined;
}

/** Writes frames to, and signals, the running OS process. @internal */
export interface PythonProcessHandle {
  readonly osPid: number;
  /** Sends one message; returns the bytes written. */
  send(message: unknown): number;
  sendEncoded(frame: Buffer): void;
  kill(signal: NodeJS.Signals): void;
  readonly exited: boolean;
  /**
   * Set by the bridge while it accepts replies: replies then go straight to it instead of
   * through a machine event each (the data path; lifecycle events still go through the machine).
   */
  onReply: ((message: Record<string, unknown>) => void) | undefined;
}

/** Events the process actor sends to the bridge machine. @internal */
export type PythonProcessEvent =
  | { type: 'process.spawned'; handle: PythonProcessHandle }
  | { type: 'process.message'; message: Record<string, unknown> }
  | { type: 'process.protocolError'; error: Error }
  | { type: 'process.output'; stream: 'stdout' | 'stderr'; line: string }
  | { type: 'process.failed'; error: Error }
  | { type: 'process.exit'; code: number | null; signal: string | null };

/**
 * Owns one OS process for a bridge: resolves the interpreter, spawns it without a shell with two
 * extra pipes (fd 3: frames to Python, fd 4: frames back), decodes frames, splits stdout and
 * stderr into lines, and reports everything to the bridge machine as events. When the actor is
 * stopped (its bridge ended, or was killed) a process still running gets SIGKILL: an OS process
 * never outlives its bridge. The runtime tracks it until it is gone, for leak checks.
 *
 * @internal
 */
export const pythonProcess = fromCallback<{ type: string }, PythonProcessSpec>(({ input: spec, sendBack, self }) => {
  const prepared = takePrepared(self as AnyActorRef);
  const input = prepared?.input ?? spawnInput(spec.settings, spec.owner, spec.extraEnv);
  let child: ChildProcess | undefined;
  let stopped = false;
  let exited = false;
  const rt = runtimeOf(self as AnyActorRef);

  const lookup = lookupOf(input);
  const start = (exe: string) => {
    if (stopped) return;
    attach(spawnPython(exe, input));
  };
  const attach = (proc: ChildProcess) => {
    child = proc;
    // Alive until the bridge has been told of the exit ('close', below), not merely until the
    // OS process ended ('exit'): in between, an event from outside is still on its way, and a
    // test runtime that took the process for gone would let simulated timeouts fire first.
    const untrack = rt.trackResource({
      describe: () =>
        `python pid ${proc.pid ?? '?'} (owned by ${input.owner})` +
        (proc.exitCode !== null || proc.signalCode !== null ? ', exited but its pipes are still open' : ''),
      isAlive: () => !exited,
    });
    const toPython = proc.stdio[3] as Writable;
    const fromPython = proc.stdio[4] as Readable;
    // The pipes can fail (EPIPE once Python is gone); the exit event is what reports that.
    toPython.on('error', () => undefined);
    fromPython.on('error', () => undefined);
    const decoder = new FrameDecoder(input.maxFrameBytes);
    let protocolBroken = false;
    fromPython.on('data', (chunk: Buffer) => {
      if (protocolBroken) return;
      let messages: readonly unknown[];
      try {
        messages = decoder.push(chunk);
      } catch (err) {
        protocolBroken = true;
        sendBack({ type: 'process.protocolError', error: err as Error });
        return;
      }
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i] as Record<string, unknown>;
        if (message.type === undefined && handle?.onReply) handle.onReply(message);
        else sendBack({ type: 'process.message', message });
      }
    });
    lines(proc.stdout!, (line) => sendBack({ type: 'process.output', stream: 'stdout', line }));
    lines(proc.stderr!, (line) => sendBack({ type: 'process.output', stream: 'stderr', line }));
    proc.once('error', (err) => {
      // The spawn itself failed (ENOENT, EACCES): there is no process to wait for.
      exited = true;
      untrack();
      sendBack({ type: 'process.failed', error: err });
    });
    // Frames written in the same tick go out in one write: a burst of calls is one syscall.
    let corked = false;
    const write = (frame: Buffer) => {
      if (!corked) {
        corked = true;
        toPython.cork();
        process.nextTick(() => {
          corked = false;
          toPython.uncork();
        });
      }
      toPython.write(frame);
    };
    let handle: PythonProcessHandle | undefined;
    proc.once('spawn', () => {
      handle = {
        osPid: proc.pid!,
        send(message) {
          const frame = encodeFrame(message);
          write(frame);
          return frame.length;
        },
        sendEncoded(frame) {
          write(frame);
        },
        kill(signal) {
          if (!exited) proc.kill(signal);
        },
        get exited() {
          return exited;
        },
        onReply: undefined,
      };
      sendBack({ type: 'process.spawned', handle });
    });
    // 'close' comes after the process exited *and* its pipes were drained, so every frame it
    // wrote before dying has been delivered before the exit is.
    proc.once('close', (code, signal) => {
      exited = true;
      untrack();
      sendBack({ type: 'process.exit', code, signal });
    });
  };
  // Reported from a later turn, as a failed spawn always is: never while the bridge is starting.
  const failed = (err: unknown) => void Promise.reject(err).catch((e: unknown) => sendBack({ type: 'process.failed', error: e instanceof Error ? e : new Error(String(e)) }));
  // Python takes tens of ms to start: it was spawned before the bridge's actor was built when it
  // could be (PreparedLaunch), else it is spawned in this turn whenever the interpreter is known
  // without waiting (a pyenv shim read from its files, or resolved before), so its start-up
  // overlaps the rest of the bridge's start instead of following it.
  if (prepared?.child !== undefined) attach(prepared.child);
  else {
    try {
      const now = resolvePythonNow(input.python, lookup);
      if (now !== undefined) start(now);
      else resolvePython(input.python, lookup).then(start).catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  return () => {
    stopped = true;
    if (child && !exited) child.kill('SIGKILL');
  };
});

function lookupOf(input: PythonProcessInput): { env: NodeJS.ProcessEnv; cwd?: string } {
  return input.cwd === undefined ? { env: input.env } : { env: input.env, cwd: input.cwd };
}

function spawnPython(exe: string, input: PythonProcessInput): ChildProcess {
  return spawn(exe, input.argv, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: { ...input.env, ...input.bridgeEnv },
    cwd: input.cwd,
    windowsHide: true,
  });
}

/**
 * What a bridge's spawn prepared before its actor was built (the bridge logic's `prepare`, run by
 * the runtime at spawn): the spawn's input, made once (it copies `process.env`, slow to read:
 * made twice, it was the largest item of a warm bridge start's profile), and the Python process,
 * started right away when the interpreter is known without waiting: the first bridge of a Node
 * process spent 6-10 ms compiling and running xstate's start path before its Python started.
 * Taken by the bridge's process actor as it starts, in the same turn (no event of the child can
 * arrive before); a process nobody took is killed.
 *
 * @internal
 */
export class PreparedLaunch implements Prepared {
  readonly input: PythonProcessInput;
  readonly child: ChildProcess | undefined;

  constructor(input: PythonProcessInput, child: ChildProcess | undefined) {
    this.input = input;
    this.child = child;
    // Until the process actor wires it: a failed spawn must not be an unhandled 'error'.
    child?.on('error', () => undefined);
  }

  discard(): void {
    if (this.child === undefined) return;
    this.child.kill('SIGKILL');
    for (const stream of this.child.stdio) stream?.destroy();
  }
}

/** Prepares a spawn of `input`: Python is started now if its interpreter is known without waiting. @internal */
export function launchNow(input: PythonProcessInput): PreparedLaunch {
  const exe = resolvePythonNow(input.python, lookupOf(input));
  return new PreparedLaunch(input, exe === undefined ? undefined : spawnPython(exe, input));
}

/** What the runtime's spawn prepared for this process actor's bridge, taken (see PreparedLaunch). */
function takePrepared(self: AnyActorRef): PreparedLaunch | undefined {
  const bridge = (self as { _parent?: AnyActorRef })._parent;
  const rec = bridge === undefined ? undefined : recordOf(bridge);
  const prepared = rec?.prepared;
  if (!(prepared instanceof PreparedLaunch)) return undefined;
  rec!.prepared = undefined;
  return prepared;
}

function lines(stream: Readable, onLine: (line: string) => void): void {
  stream.setEncoding('utf8');
  let rest = '';
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const part of parts) onLine(part.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (rest) onLine(rest);
    rest = '';
  });
  stream.on('error', () => undefined);
}
