import { InvalidOptionError } from './errors.js';
import { isRuntimeClock, type RuntimeClock } from './clock.js';
import { isLogger, type Logger } from './logger.js';
import type { FallbackResolver } from './nameService.js';
import { validateOptions, optional, matching } from './validate.js';
import type { Inspector } from './isolateInspector.js';
import type { Transport } from './transport.js';

/** Options of `createRuntime`. */
export interface RuntimeOptions {
  /** The runtime's name: the root of the tree and the `node` of its pids. Default `'xotp'`. */
  name?: string;
  /** Source of time for every timer. Default: real time. Tests pass a `SimulatedClock`. */
  clock?: RuntimeClock;
  /**
   * An xstate inspector (observer or function) receiving every actor's inspection events.
   * Messages the runtime delivers carry the sending process as `sourceRef`; replies to calls
   * appear as `xotp.reply` events. An inspector that throws is ignored (its first error logged).
   */
  inspect?: Inspector;
  /** Where crash reports and warnings go. Default: the console, warnings and errors only. */
  logger?: Logger;
  /**
   * Registries (unique) in which plain names are also looked up, in order, after local names.
   * A listed registry that is not running makes resolution fail with `UnknownRegistryError`
   * rather than silently fall through to the next source.
   */
  nameRegistries?: string[];
  /** Last-resort resolvers for plain names, tried in order after local names and registries. */
  resolvers?: FallbackResolver[];
  /**
   * Joins a network of nodes (a `MemoryNetwork`, or `connectNats` from `xotp/cluster`) under
   * `name`: pids of other nodes then work with `send`, `cast`, `call`, `stop`, `exit`, `link`
   * and `monitor`. Without it the runtime is a single node, exactly as before.
   */
  transport?: Transport;
}

const namePattern = /^[A-Za-z][\w-]*$/;

/** `createRuntime`'s options, checked, with their defaults. @internal */
export function parseRuntimeOptions(options: RuntimeOptions) {
  return validateOptions('createRuntime', options, {
    name: optional(matching(namePattern, 'a name of letters, digits, _ or - starting with a letter'), 'xotp'),
    clock: optional((v, key) => {
      if (!isRuntimeClock(v)) throw new InvalidOptionError(key, 'a clock with setTimeout, clearTimeout and now', v);
      return v;
    }),
    inspect: optional((v, key): Inspector => {
      // Beyond "a function or an object" an inspector's shape cannot be checked: `next` is optional.
      if (typeof v === 'function' || (typeof v === 'object' && v !== null)) return v as Inspector;
      throw new InvalidOptionError(key, 'an inspection observer or function', v);
    }),
    logger: optional((v, key) => {
      if (!isLogger(v)) throw new InvalidOptionError(key, 'a logger with debug, info, warn and error', v);
      return v;
    }),
    nameRegistries: optional((v, key) => {
      if (!Array.isArray(v) || !v.every((n) => typeof n === 'string' && n.length > 0)) {
        throw new InvalidOptionError(key, 'an array of registry names', v);
      }
      return v as string[];
    }, []),
    resolvers: optional((v, key) => {
      if (!Array.isArray(v) || !v.every((f) => typeof f === 'function')) {
        throw new InvalidOptionError(key, 'an array of functions (name) => Pid | undefined', v);
      }
      return v as FallbackResolver[];
    }, []),
    transport: optional((v, key): Transport => {
      if (typeof v === 'object' && v !== null && typeof (v as { join?: unknown }).join === 'function') return v as Transport;
      throw new InvalidOptionError(key, 'a transport (an object with join(node, { clock }))', v);
    }),
  });
}
