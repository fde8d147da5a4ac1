import { bridgeInfo, whichChildren, type Runtime } from '../index.js';

/** Options of {@link startChaosMonkey}. */
export interface ChaosOptions {
  runtime: Runtime;
  /** The dynamic supervisor of the pool's workers (`<pool>.workers`). */
  workers: string;
  /** Real-time ms between two kills. */
  everyMs: number;
  random?: () => number;
}

/** A running chaos monkey. */
export interface ChaosMonkey {
  kills(): number;
  /** Stops killing; resolves once a kill under way has finished. */
  stop(): Promise<void>;
}

/**
 * SIGKILLs the Python process of a random worker every `everyMs` ms of real time: the worker's
 * bridge sees its process die, fails the call in flight with BridgeExitedError, and ends; the
 * workers' supervisor starts a new one. Workers still starting (no OS pid yet) are not picked.
 */
export function startChaosMonkey(o: ChaosOptions): ChaosMonkey {
  const random = o.random ?? Math.random;
  let kills = 0;
  let busy: Promise<void> | undefined;
  const killOne = async () => {
    const children = await whichChildren(o.runtime, o.workers);
    const infos = await Promise.all(children.map((c) => (typeof c.pid === 'object' ? bridgeInfo(o.runtime, c.pid).catch(() => undefined) : undefined)));
    const osPids = infos.flatMap((i) => (typeof i?.osPid === 'number' && i.state === 'ready' ? [i.osPid] : []));
    if (osPids.length === 0) return;
    try {
      process.kill(osPids[Math.floor(random() * osPids.length)]!, 'SIGKILL');
      kills++;
    } catch {
      // It exited meanwhile.
    }
  };
  const timer = setInterval(() => {
    if (busy) return; // never two at once: a slow tick skips the next
    busy = killOne()
      .catch(() => undefined) // the pool is restarting or stopping: try again next tick
      .finally(() => (busy = undefined));
  }, o.everyMs);
  return {
    kills: () => kills,
    stop: async () => {
      clearInterval(timer);
      await busy;
    },
  };
}
