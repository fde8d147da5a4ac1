import { dirname, resolve as resolvePath, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError } from '../runtime/errors.js';
import { validateOptions, optional, isString, integer, isTimeout, anything, isPlainObject, notPlain, nonEmptyString } from '../runtime/validate.js';
import { defaultPython } from './pythonInterpreter.js';
import type { PythonProcessInput } from './pythonProcess.js';

/** Options of `pythonBridge()`. */
export interface PythonBridgeOptions {
  /** A module of handlers, run as `python -m xotp_bridge --module <module>`. */
  module?: string;
  /** Or a script that registers handlers and calls `xotp_bridge.serve()` itself. */
  script?: string;
  /**
   * The Python command; resolved once to the real interpreter. Default `$XOTP_PYTHON` (as it is
   * when the bridge spawns), else `python3`.
   */
  python?: string;
  /** Extra arguments (after the module or script). */
  args?: string[];
  /**
   * Options for the interpreter itself, before the module (`['-X', 'importtime']`, `['-O']`,
   * or `['-S']` for a stdlib-only worker that should start without `site`'s .pth imports).
   * `-m`, `-c`, `-E` and `-I` are refused: they would change what runs, or hide the
   * `PYTHONPATH` through which the bridge's own package is found. Default none.
   */
  pythonArgs?: string[];
  /** Extra environment variables (on top of this process's, as it is when the bridge spawns). */
  env?: Record<string, string>;
  cwd?: string;
  /** ms from spawn to the `ready` handshake. Default 10000. */
  startupTimeout?: number | 'infinity';
  /** Default per-call deadline in ms. Default 30000. */
  callTimeout?: number | 'infinity';
  /** ms for each shutdown step: the shutdown frame, then SIGTERM, then SIGKILL. Default 5000. */
  shutdownTimeout?: number | 'infinity';
  /**
   * ms Python has, once a call outlived its deadline, to let go of it: acknowledge the cancel
   * (an async handler cancelled, a queued call dropped) or reply late (a synchronous handler
   * that finished). Past it the bridge is wedged: it ends with BridgeWedgedError and its
   * supervisor replaces it. `'infinity'` never ends it. Default 2000.
   */
  cancelGrace?: number | 'infinity';
  /** Largest frame accepted in either direction. Default 16 MiB. */
  maxFrameBytes?: number;
  /** Calls sent and queued at most; more fail with BridgeOverloadedError. Default 1024. */
  maxPending?: number;
  /** Calls Python runs at once (a thread pool when > 1). Default 1. */
  concurrency?: number;
  /**
   * µs Python polls its pipe for the next call before it sleeps, while calls come that quickly
   * (as the BEAM's schedulers spin before they sleep): a call that follows its predecessor's
   * reply within this window is read without waking the process. Polling yields the CPU, stops
   * once a wait outlasts the window (an idle worker polls once), pauses when the CPU turns out
   * to be contended, and is off with `concurrency > 1` and once an `async` handler ran. `0`
   * never polls. Default 50.
   */
  busyWaitMicros?: number;
  /** Label in the bridge's readable id. Default `'bridge'`. */
  label?: string;
}

/**
 * Validated bridge options: what was asked for, fixed when the bridge is defined. Nothing here
 * is read from this process's environment; that happens at each spawn (`spawnInput`).
 *
 * @internal
 */
export interface BridgeSettings {
  label: string;
  /** The command given, if any; the default (`$XOTP_PYTHON`, else `python3`) is read at spawn. */
  python: string | undefined;
  argv: string[];
  /** The `env` option: added to this process's environment at spawn. */
  env: Record<string, string>;
  cwd: string | undefined;
  startupTimeout: number;
  callTimeout: number;
  shutdownTimeout: number;
  cancelGrace: number;
  maxFrameBytes: number;
  maxPending: number;
  concurrency: number;
  busyWaitMicros: number;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The directory holding the `xotp_bridge` Python package (../../python from src/ or dist/). */
export const pythonPackageDir = resolvePath(here, '..', '..', 'python');

/**
 * How the bridge starts Python: `python -m xotp_bridge`'s entry point (the same `main`), run as
 * `-c` code (fixed text, never data: the module, script and args follow as argv). `-m` imports
 * runpy, which imports importlib.util, contextlib, collections and functools: about 10 ms of a
 * 40 ms start on an interpreter whose site imports little. `-c` puts '' first on sys.path;
 * main() makes it the absolute working directory, as `-m` puts it, so user modules resolve the
 * same way (also after a handler changes directory).
 */
const ENTRY = ['-c', 'import sys; from xotp_bridge._core import main; sys.exit(main(sys.argv[1:]))'] as const;

/** An empty module or interpreter would only fail at start. */
const nonEmpty = nonEmptyString('a non-empty string');

/** CPython's short options that take a value: the rest of their argument (or the next one) is it. */
const TAKES_VALUE = new Set(['W', 'X', 'Q']);

/**
 * The first of `args` that would change what runs (`-m`, `-c`, `-` for stdin) or hide the
 * bridge's PYTHONPATH (`-E`, `-I`), read as CPython reads its options: short flags may be grouped
 * (`-sE` is `-s -E`), `-W`/`-X` take the rest of their argument or the next one as a value
 * (`-Xdev`, `-W error`), a long option (`--check-hash-based-pycs always`) takes the next
 * argument, and a bare argument or `--` would make what follows (the bridge's own `-c`) a script.
 */
function forbiddenInterpreterOption(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-' || a === '--') return a; // stdin, or the bridge's own -c read as a script name
    if (a.startsWith('--')) {
      if (!a.includes('=')) i++; // --check-hash-based-pycs <mode>
      continue;
    }
    if (!a.startsWith('-')) return a; // a script or module name would run instead of the bridge
    for (let j = 1; j < a.length; j++) {
      const flag = a[j]!;
      if (flag === 'm' || flag === 'c' || flag === 'E' || flag === 'I') return a;
      if (TAKES_VALUE.has(flag)) {
        if (j === a.length - 1) i++; // the value is the next argument
        break;
      }
    }
  }
  return undefined;
}

/**
 * Validates `pythonBridge()`'s options.
 *
 * @throws InvalidOptionError naming the key.
 * @internal
 */
export function parseBridgeOptions(options: unknown): BridgeSettings {
  const o = validateOptions('pythonBridge', options, {
    module: optional(nonEmpty),
    script: optional(nonEmpty),
    python: optional(nonEmpty),
    args: optional((v, key) => {
      if (!Array.isArray(v) || !v.every((a) => typeof a === 'string')) throw new InvalidOptionError(key, 'an array of strings', v);
      return v as string[];
    }, []),
    pythonArgs: optional((v, key) => {
      if (!Array.isArray(v) || !v.every((a) => typeof a === 'string')) throw new InvalidOptionError(key, 'an array of strings', v);
      const bad = forbiddenInterpreterOption(v as string[]);
      if (bad !== undefined) {
        throw new InvalidOptionError(key, 'interpreter options other than -m, -c, -E and -I (grouped ones too), -, -- or a script', v, `'${bad}' would change what runs or hide the bridge's PYTHONPATH`);
      }
      return v as string[];
    }, []),
    env: optional((v, key) => {
      // A Map has no own values: it would pass as an empty environment, silently dropped.
      if (!isPlainObject(v)) throw notPlain(key, 'an object of string values', v);
      if (!Object.values(v).every((x) => typeof x === 'string')) throw new InvalidOptionError(key, 'an object of string values', v);
      return v as Record<string, string>;
    }, {}),
    cwd: optional(isString),
    startupTimeout: optional(isTimeout, 10_000),
    callTimeout: optional(isTimeout, 30_000),
    shutdownTimeout: optional(isTimeout, 5_000),
    cancelGrace: optional(isTimeout, 2_000),
    maxFrameBytes: optional(integer(16, 2 ** 31 - 1), 16 * 1024 * 1024),
    maxPending: optional(integer(1), 1024),
    concurrency: optional(integer(1, 1024), 1),
    busyWaitMicros: optional(integer(0, 100_000), 50),
    label: optional(anything),
  });
  if ((o.module === undefined) === (o.script === undefined)) {
    throw new InvalidOptionError('pythonBridge.module', 'exactly one of module or script', { module: o.module, script: o.script });
  }
  const label = o.label ?? 'bridge';
  if (typeof label !== 'string' || !/^[^/\s]+$/.test(label)) {
    throw new InvalidOptionError('pythonBridge.label', "a label without '/' or spaces", label);
  }
  const argv = [
    ...o.pythonArgs,
    ...ENTRY,
    ...(o.module !== undefined
      ? ['--module', o.module, '--concurrency', String(o.concurrency), '--', ...o.args]
      : // Through xotp_bridge too, so that it arms "exit when Node dies" before the script runs.
        ['--script', o.script!, '--concurrency', String(o.concurrency), '--', ...o.args]),
  ];
  return {
    label,
    python: o.python,
    argv,
    env: o.env,
    cwd: o.cwd,
    startupTimeout: o.startupTimeout,
    callTimeout: o.callTimeout,
    shutdownTimeout: o.shutdownTimeout,
    cancelGrace: o.cancelGrace,
    maxFrameBytes: o.maxFrameBytes,
    maxPending: o.maxPending,
    concurrency: o.concurrency,
    busyWaitMicros: o.busyWaitMicros,
  };
}

/**
 * What one spawn of the bridge runs: the settings, with this process's environment read now
 * (`$XOTP_PYTHON`, `PYTHONPATH`, everything the process inherits), not when the bridge was
 * defined: a program may define its bridges at import time and set its environment later, and
 * each restart sees the environment as it is then.
 *
 * @param extraEnv variables the spawner adds for this process (a pool's run marker).
 * @internal
 */
export function spawnInput(settings: BridgeSettings, owner: string, extraEnv?: Record<string, string>): PythonProcessInput {
  const env = { ...process.env, ...settings.env };
  return {
    owner,
    python: settings.python ?? defaultPython(),
    argv: settings.argv,
    env,
    bridgeEnv: {
      ...extraEnv,
      PYTHONPATH: [pythonPackageDir, env.PYTHONPATH].filter(Boolean).join(delimiter),
      PYTHONUNBUFFERED: '1',
      XOTP_BRIDGE_PARENT_PID: String(process.pid),
      XOTP_BRIDGE_CONCURRENCY: String(settings.concurrency),
      // Python refuses (fails that call) a reply larger than we would accept.
      XOTP_BRIDGE_MAX_FRAME_BYTES: String(settings.maxFrameBytes),
      XOTP_BRIDGE_BUSY_WAIT_US: String(settings.busyWaitMicros),
    },
    cwd: settings.cwd,
    maxFrameBytes: settings.maxFrameBytes,
  };
}
