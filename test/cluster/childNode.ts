import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A child Node process running a test/cluster fixture: it reports JSON lines on stdout and
 * takes JSON commands `{ id, op, ... }` on stdin, answering with a line of the same `id`. The
 * lines it wrote are kept; `next` waits for one (a line written before counts). When the process
 * exits, every wait fails.
 */
export class ChildNode<Line extends { id?: number }> {
  readonly child: ChildProcess;
  readonly lines: Line[] = [];
  /** Date.now() when the process exited. */
  exitedAt: number | undefined;
  readonly #waiting: Array<{ match: (l: Line) => boolean; resolve: (l: Line) => void; reject: (e: Error) => void }> = [];
  #seq = 0;

  constructor(
    readonly name: string,
    fixture: string,
    args: string[],
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.once('exit', (code, signal) => {
      this.exitedAt = Date.now();
      for (const w of this.#waiting.splice(0)) w.reject(new Error(`node ${name} exited (${code ?? signal}) while a line was awaited`));
    });
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      const line = JSON.parse(text) as Line;
      this.lines.push(line);
      for (const w of [...this.#waiting]) {
        if (w.match(line)) {
          this.#waiting.splice(this.#waiting.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
  }

  next(match: (l: Line) => boolean): Promise<Line> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.exitedAt !== undefined) return Promise.reject(new Error(`node ${this.name} has exited`));
    return new Promise((resolve, reject) => this.#waiting.push({ match, resolve, reject }));
  }

  command(op: string, extra: Record<string, unknown> = {}): Promise<Line> {
    const id = ++this.#seq;
    this.child.stdin!.write(`${JSON.stringify({ id, op, ...extra })}\n`);
    return this.next((l) => l.id === id);
  }
}
