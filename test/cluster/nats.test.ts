/**
 * Two child Node processes joined over a real `nats-server` (started here on 127.0.0.1 with
 * JetStream in a temporary folder): remote calls both ways; monitor and link across nodes
 * deliver `noconnection` when a node is SIGKILLed; its pids then answer `noproc`.
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { exited, natsServer, startNats } from './natsServer.js';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/natsNode.ts', import.meta.url));

interface Line {
  id?: number;
  ok?: boolean;
  value?: unknown;
  error?: { code?: string; name?: string; message?: string };
  ready?: { node: string; id: number; creation?: number };
  event?: string;
  reason?: unknown;
}

/** A child node: its output lines, and a way to wait for one. */
class NodeProcess {
  readonly child: ChildProcess;
  readonly lines: Line[] = [];
  readonly #waiting: Array<{ match: (l: Line) => boolean; resolve: (l: Line) => void }> = [];
  #seq = 0;

  constructor(name: string, url: string) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture, name, url], { stdio: ['pipe', 'pipe', 'inherit'] });
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
    return new Promise((resolve, reject) => {
      this.#waiting.push({ match, resolve });
      this.child.once('exit', (code, signal) => reject(new Error(`node exited (${code ?? signal}) while a line was awaited`)));
    });
  }

  command(op: string, extra: Record<string, unknown> = {}): Promise<Line> {
    const id = ++this.#seq;
    this.child.stdin!.write(`${JSON.stringify({ id, op, ...extra })}\n`);
    return this.next((l) => l.id === id);
  }
}

const natsTest = natsServer === undefined ? test.skip : test;
if (natsServer === undefined) {
  console.log('test/cluster/nats.test.ts: nats-server is not installed (apt-get install nats-server; .ci/run does): the NATS tests are skipped');
}

natsTest('over NATS: a remote call works both ways; monitor and link deliver noconnection when a node is SIGKILLed; its pids then answer noproc', async (t) => {
  t.timeout(45_000);
  const url = await startNats(t, natsServer!);
  const a = new NodeProcess('alpha', url);
  const b = new NodeProcess('beta', url);
  t.teardown(async () => {
    for (const n of [a, b]) {
      if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
      await exited(n.child);
    }
  });
  const pidA = (await a.next((l) => l.ready !== undefined)).ready!;
  const pidB = (await b.next((l) => l.ready !== undefined)).ready!;
  t.is(pidA.node, 'alpha');
  t.is(pidB.node, 'beta');

  const ab = await a.command('call', { to: pidB, request: { n: 1 } });
  t.deepEqual(ab, { id: 1, ok: true, value: { from: `<beta.${pidB.id}>`, got: { n: 1 } } });
  const ba = await b.command('call', { to: pidA, request: ['x', 2] });
  t.deepEqual(ba, { id: 1, ok: true, value: { from: `<alpha.${pidA.id}>`, got: ['x', 2] } });

  t.deepEqual(await a.command('watch', { to: pidB }), { id: 2, ok: true, value: null });
  b.child.kill('SIGKILL');
  const [down, trapped, linkedDied] = await Promise.all([
    a.next((l) => l.event === 'down'),
    a.next((l) => l.event === 'trapped'),
    a.next((l) => l.event === 'linkedDied'),
  ]);
  t.is(down.reason, 'noconnection');
  t.is(trapped.reason, 'noconnection');
  t.is(linkedDied.reason, 'noconnection');

  const after = await a.command('call', { to: pidB, request: 'anyone?' });
  t.is(after.ok, false);
  t.is(after.error?.code, 'noproc');

  t.deepEqual(await a.command('quit'), { id: 4, ok: true, value: null });
  await exited(a.child);
  t.is(a.child.exitCode, 0);
  t.is(a.lines.filter((l) => l.event !== undefined).length, 3, 'each watcher heard exactly once');
});
