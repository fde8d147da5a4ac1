/**
 * One signal that aborts when either of two does (either may be absent), with the reason of the
 * first to abort, and `release` to call when done with it. Not `AbortSignal.any`: on Node 20 it
 * keeps what it makes alive as long as its sources, and a node's signal lives as long as the
 * node, so every call through it would leak one.
 */
export function combineSignals(a: AbortSignal, b: AbortSignal | undefined): { signal: AbortSignal; release: () => void };
export function combineSignals(a: AbortSignal | undefined, b: AbortSignal | undefined): { signal: AbortSignal | undefined; release: () => void };
export function combineSignals(a: AbortSignal | undefined, b: AbortSignal | undefined): { signal: AbortSignal | undefined; release: () => void } {
  if (a === undefined || b === undefined) return { signal: a ?? b, release: noop };
  const controller = new AbortController();
  const onA = () => controller.abort(a.reason);
  const onB = () => controller.abort(b.reason);
  if (a.aborted) onA();
  else if (b.aborted) onB();
  a.addEventListener('abort', onA, { once: true });
  b.addEventListener('abort', onB, { once: true });
  return {
    signal: controller.signal,
    release: () => {
      a.removeEventListener('abort', onA);
      b.removeEventListener('abort', onB);
    },
  };
}

function noop(): void {}
