import { defineServer } from '../index.js';

/** One settled request, as the load generator reports it. */
export type Outcome =
  | { t: 'ok'; ms: number }
  /** A typed XotpError the caller can act on (its code). */
  | { t: 'failed'; code: string }
  /** A session call whose worker was killed: expected under chaos, the caller starts a new session. */
  | { t: 'sessionLost' }
  /** Never settled, settled with an untyped error, or with a wrong answer. */
  | { t: 'lost'; detail: string };

/** The counts so far. */
export interface DemoCounts {
  ok: number;
  failed: number;
  failures: Record<string, number>;
  sessionsLost: number;
  lost: number;
  /** Up to 5 examples of lost requests. */
  anomalies: string[];
  p50: number;
  p99: number;
}

interface State {
  ok: number;
  failures: Record<string, number>;
  sessionsLost: number;
  lost: number;
  anomalies: string[];
  latencies: number[];
}

const percentile = (sorted: number[], q: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

/**
 * The demo's tally: a gen_server that the load generator finds through the registry (a via
 * name) and casts each outcome to, so the counting itself is a supervised process in the tree.
 */
export const demoStats = defineServer<State, undefined, 'counts', DemoCounts, Outcome>({
  name: 'stats',
  init: () => ({ state: { ok: 0, failures: {}, sessionsLost: 0, lost: 0, anomalies: [], latencies: [] } }),
  handleCast: (o, s) => {
    if (o.t === 'ok') {
      s.ok++;
      s.latencies.push(o.ms);
    } else if (o.t === 'failed') {
      s.failures[o.code] = (s.failures[o.code] ?? 0) + 1;
    } else if (o.t === 'sessionLost') {
      s.sessionsLost++;
    } else {
      s.lost++;
      if (s.anomalies.length < 5) s.anomalies.push(o.detail);
    }
    return { state: s };
  },
  handleCall: (_req, _from, s) => {
    const sorted = [...s.latencies].sort((a, b) => a - b);
    const failed = Object.values(s.failures).reduce((a, b) => a + b, 0);
    return {
      reply: {
        ok: s.ok,
        failed,
        failures: { ...s.failures },
        sessionsLost: s.sessionsLost,
        lost: s.lost,
        anomalies: [...s.anomalies],
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
      },
    };
  },
});
