/** The colour family of a state: the viewer and the Mermaid export colour nodes the same way. */
export type StateColour = 'ok' | 'busy' | 'stopping' | 'failed' | 'other';

const busy = /start|restart|warming|handshak|spawning|managing|initializ|halfOpen|draining/i;
const stopping = /stopp|terminat|shuttingDown|exiting|exited/i;
const failed = /crash|error|fail|unhealthy|degraded|^open$/i;
const ok = /^(running|ready|active|closed|idle|busy)$/i;

/**
 * Which colour a node gets for its state text: busy states (starting, restarting, warming)
 * before failure words, so `restarting.startingChild` reads as busy, not as a stop.
 */
export function stateColour(state: string, status: 'alive' | 'exiting' = 'alive'): StateColour {
  if (status === 'exiting') return 'stopping';
  if (failed.test(state)) return 'failed';
  if (busy.test(state)) return 'busy';
  if (stopping.test(state)) return 'stopping';
  if (ok.test(state.split('.')[0]!)) return 'ok';
  return 'other';
}
