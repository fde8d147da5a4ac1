import type { DemoCounts } from './demoStats.js';

/** Where the demo writes: a stream, and whether it is a terminal (and how wide). */
export interface DemoOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** What one progress update shows. */
export interface DemoFrame {
  elapsedMs: number;
  durationMs: number;
  counts: DemoCounts;
  kills: number;
  restarts: number;
  queue: number;
  maxQueue: number;
  /** `formatTree(inspectTree(runtime))`. */
  tree: string;
  viewerUrl?: string;
}

/** The run's result: what the summary table and the `demo:` line say. */
export interface DemoSummary extends DemoCounts {
  workers: number;
  seconds: number;
  /** Requests a retry saved (recoveries that ended in a success), and retries made in all. */
  retried: number;
  retries: number;
  kills: number;
  restarts: number;
  maxQueue: number;
  pythonLeft: number;
}

const BAR = 30;

/**
 * The demo's display. On a terminal, a frame redrawn in place: a progress bar, the counters and
 * the live tree with restart counts. Elsewhere (a pipe, CI), one plain line a second.
 *
 * Hand-written rather than cli-progress: the frame is a bar plus a tree whose height changes
 * (workers restarting, idle children shown), which cli-progress cannot redraw (it owns only its
 * bar lines; its `log()` scrolls text above them), so the block redraw would be needed anyway,
 * and the bar itself is one line of code. No runtime dependency for a display.
 */
export class DemoView {
  private drawn = 0;
  private lastPlain = -Infinity;
  private readonly out: DemoOutput;
  constructor(out: DemoOutput) {
    this.out = out;
  }

  update(frame: DemoFrame): void {
    if (this.out.isTTY) this.redraw(frame);
    else if (frame.elapsedMs - this.lastPlain >= 1000) {
      this.lastPlain = frame.elapsedMs;
      this.out.write(`progress ${seconds(Math.min(frame.elapsedMs, frame.durationMs))}/${seconds(frame.durationMs)} s: ${counters(frame)}\n`);
    }
  }

  /** Leaves the last frame on screen and the cursor visible. */
  close(): void {
    if (this.out.isTTY && this.drawn > 0) this.out.write('\x1b[?25h');
    this.drawn = 0;
  }

  private redraw(frame: DemoFrame): void {
    const width = Math.max(40, (this.out.columns ?? 100) - 1);
    const done = Math.min(1, frame.elapsedMs / frame.durationMs);
    const filled = Math.round(done * BAR);
    const lines = [
      `xotp demo ${'█'.repeat(filled)}${'░'.repeat(BAR - filled)} ${seconds(Math.min(frame.elapsedMs, frame.durationMs))}/${seconds(frame.durationMs)} s`,
      counters(frame),
      ...(frame.viewerUrl ? [`viewer: ${frame.viewerUrl}`] : []),
      '',
      ...frame.tree.split('\n'),
    ].map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
    // Back to the frame's first line, clear to the end of the screen, draw.
    const back = this.drawn > 0 ? `\x1b[${this.drawn}F\x1b[J` : '\x1b[?25l';
    this.out.write(`${back}${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}

function counters(f: DemoFrame): string {
  const c = f.counts;
  return `ok ${c.ok} · failed ${c.failed} · sessions lost ${c.sessionsLost} · lost ${c.lost} · kills ${f.kills} · restarts ${f.restarts} · queue ${f.queue} (max ${f.maxQueue})`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

function ms(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a';
}

/** The summary table printed at the end. */
export function summaryTable(s: DemoSummary): string {
  const failures = Object.entries(s.failures).map(([code, n]) => `${code} ${n}`).join(', ');
  const rows: Array<[string, string, string?]> = [
    ['requests ok', String(s.ok)],
    ['failed', String(s.failed), failures ? `typed errors: ${failures}` : 'typed errors a caller can act on'],
    ['retried', String(s.retried), `saved by a retry after their worker was killed (${s.retries} retries)`],
    ['sessions lost', String(s.sessionsLost), 'their worker was killed; by design, never moved'],
    ['lost', String(s.lost), 'never settled, untyped error or wrong answer'],
    ['kills', String(s.kills), 'Python processes SIGKILLed'],
    ['restarts', String(s.restarts), 'workers replaced after their Python process died'],
    ['latency p50', ms(s.p50)],
    ['latency p99', ms(s.p99)],
    ['longest queue', String(s.maxQueue), 'callers waiting for a worker'],
    ['python left', String(s.pythonLeft), 'after shutdown'],
  ];
  const value = Math.max(...rows.map((r) => r[1].length));
  const lines = [`summary: ${s.workers} workers, ${s.seconds.toFixed(1)} s`];
  for (const [name, v, note] of rows) lines.push(`  ${name.padEnd(14)} ${v.padStart(value)}${note ? `   ${note}` : ''}`);
  for (const a of s.anomalies) lines.push(`  lost: ${a}`);
  return lines.join('\n');
}

/** The last line: one machine-readable summary, `demo: key value ...`. */
export function summaryLine(s: DemoSummary): string {
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'nan');
  return (
    `demo: ok ${s.ok} failed ${s.failed} retried ${s.retried} sessionsLost ${s.sessionsLost} lost ${s.lost} ` +
    `kills ${s.kills} restarts ${s.restarts} p50 ${f(s.p50)}ms p99 ${f(s.p99)}ms maxQueue ${s.maxQueue} ` +
    `pythonLeft ${s.pythonLeft} workers ${s.workers} seconds ${s.seconds.toFixed(1)}`
  );
}
