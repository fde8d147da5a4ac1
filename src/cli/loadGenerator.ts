import { BridgeExitedError, SessionLostError, XotpError, errorCodes, type PoolHandle, type Runtime, type Target } from '../index.js';
import { expectedEmbedding, expectedScore, type DemoOps } from './demoOps.js';
import type { Outcome } from './demoStats.js';

/** Options of {@link startLoad}. */
export interface LoadOptions {
  runtime: Runtime;
  py: PoolHandle<DemoOps>;
  /** Where outcomes are cast to (the stats server's via name). */
  stats: Target;
  /** Callers running `embed` / `score` back to back, declared idempotent (retried after a crash). */
  callers: number;
  /** Callers running `remember` in sessions of `sessionLength` calls. */
  sessionCallers: number;
  sessionLength?: number;
  /** Per-request deadline (the whole operation, retries included). */
  timeout?: number;
}

/** A running load: `stop()` stops issuing; `drained` settles once every caller's last request has. */
export interface Load {
  stop(): void;
  drained: Promise<void>;
  /** Requests issued and not settled yet. */
  inFlight(): number;
  issued(): number;
  /** Outcomes that could not be reported (the stats server was not running). */
  unreported(): number;
}

const WORDS = ['otp', 'link', 'monitor', 'restart', 'python', 'session', 'pool'];

/**
 * The demo's load generator. Every answer is checked against what Node computes itself; every
 * outcome is cast to the stats server: `ok` (with its latency), `failed` (a typed XotpError),
 * `sessionLost` (a session whose worker was killed: expected, and the caller starts a new
 * session), `lost` (an untyped error or a wrong answer; requests that never settle are counted by
 * the demo from `inFlight()`).
 */
export function startLoad(o: LoadOptions): Load {
  const known = new Set(errorCodes().map((c) => c.code));
  const timeout = o.timeout ?? 5000;
  const sessionLength = o.sessionLength ?? 20;
  let stopped = false;
  let seq = 0;
  let inFlight = 0;
  let unreported = 0;
  const report = (outcome: Outcome) => {
    try {
      o.runtime.cast(o.stats, outcome);
    } catch {
      unreported++; // the stats server is gone: the demo counts these as lost
    }
  };
  const describe = (err: unknown) =>
    err instanceof Error ? `${err.name}${err instanceof XotpError ? ` (${err.code})` : ''}: ${err.message.split('\n')[0]}` : String(err);
  const failedOrLost = (err: unknown, what: string) => {
    if (err instanceof XotpError && known.has(err.code)) report({ t: 'failed', code: err.code });
    else report({ t: 'lost', detail: `${what}: ${describe(err)}` });
  };
  // A request that fails fast settles without I/O; a turn of the event loop keeps the callers
  // from starving the chaos monkey's timer and Python's pipes.
  const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  const stateless = async () => {
    while (!stopped) {
      const n = seq++;
      const text = `item ${n} ${WORDS[n % 7]} ${WORDS[(n * 3) % 7]}`;
      const t0 = performance.now();
      inFlight++;
      try {
        if (n % 2 === 0) {
          const { vector } = await o.py.run('embed', { text }, { idempotent: true, timeout });
          const want = expectedEmbedding(text);
          if (vector.length === want.length && vector.every((v, i) => v === want[i])) report({ t: 'ok', ms: performance.now() - t0 });
          else report({ t: 'lost', detail: `embed ${n}: wrong vector ${JSON.stringify(vector)}` });
        } else {
          const query = `${WORDS[n % 5]} ${WORDS[(n + 2) % 5]}`;
          const { score } = await o.py.run('score', { text, query }, { idempotent: true, timeout });
          if (score === expectedScore(text, query)) report({ t: 'ok', ms: performance.now() - t0 });
          else report({ t: 'lost', detail: `score ${n}: got ${score}` });
        }
      } catch (err) {
        failedOrLost(err, `request ${n}`);
        await yieldTurn();
      } finally {
        inFlight--;
      }
    }
  };

  const withSessions = async (caller: number) => {
    let generation = 0;
    let session = `s${caller}.${generation}`;
    let count = 0;
    const renew = async () => {
      await o.py.endSession(session).catch(() => undefined);
      session = `s${caller}.${++generation}`;
      count = 0;
    };
    while (!stopped) {
      const n = seq++;
      const t0 = performance.now();
      inFlight++;
      try {
        // Not idempotent (it appends to the session's list): never retried, never moved.
        const r = await o.py.run('remember', { session, item: n }, { session, timeout });
        if (r.count === count + 1) {
          count++;
          report({ t: 'ok', ms: performance.now() - t0 });
        } else {
          report({ t: 'lost', detail: `session ${session}: count ${r.count}, expected ${count + 1}` });
        }
        if (count >= sessionLength) {
          await o.py.run('forget', { session }, { session, timeout }).catch(() => undefined);
          await renew();
        }
      } catch (err) {
        // Its worker was killed: between calls (SessionLostError) or during this one (the
        // bridge exited mid-call; the session is then lost too). Expected under chaos.
        if (err instanceof SessionLostError || err instanceof BridgeExitedError) {
          report({ t: 'sessionLost' });
          await renew();
        } else {
          failedOrLost(err, `session ${session}`);
          await yieldTurn();
        }
      } finally {
        inFlight--;
      }
    }
    await o.py.endSession(session).catch(() => undefined);
  };

  const drained = Promise.all([
    ...Array.from({ length: o.callers }, stateless),
    ...Array.from({ length: o.sessionCallers }, (_, i) => withSessions(i)),
  ]).then(() => undefined);
  return {
    stop: () => void (stopped = true),
    drained,
    inFlight: () => inFlight,
    issued: () => seq,
    unreported: () => unreported,
  };
}
