/**
 * A supervised counter that crashes and is restarted: the kernel's links and trapped exits at
 * work, with a tiny hand-written supervisor (a server that traps exits and restarts its child).
 *
 * Run: npm start
 */
import { createRuntime, defineServer, formatReason, consoleLogger, type ExitMessage, type Pid } from '../src/index.js';
import { formatTree } from '../src/inspect/index.js';

type CounterMsg = 'inc' | 'crash';

/** The worker: a counter that throws on 'crash'. */
export const counter = defineServer<number, number, 'get', number, CounterMsg>({
  name: 'counter',
  init: (start) => ({ state: start }),
  handleCall: (_req, _from, n) => ({ reply: n }),
  handleCast: (msg, n) => {
    if (msg === 'crash') throw new Error('crashed on demand');
    return { state: n + 1 };
  },
});

interface SupState {
  child: Pid;
  restarts: number;
}

/** The supervisor: traps exits, links to its child, restarts it under the same name on a crash. */
export const miniSupervisor = defineServer<SupState, undefined, 'restarts', number>({
  name: 'supervisor',
  trapExit: true,
  init: (_args, ctx) => ({ state: { child: ctx.spawnLink(counter, { name: 'counter', input: 0 }), restarts: 0 } }),
  handleCall: (_req, _from, s) => ({ reply: s.restarts }),
  handleInfo: (msg, s, ctx) => {
    const exit = msg as ExitMessage;
    if (exit.type !== 'xotp.exit' || exit.from.id !== s.child.id) return;
    console.log(`  supervisor: child ${exit.from} exited (${formatReason(exit.reason)}); restarting`);
    const child = ctx.spawnLink(counter, { name: 'counter', input: 0 });
    return { state: { child, restarts: s.restarts + 1 } };
  },
});

export async function main(): Promise<void> {
  // Crash reports are expected here; log only at 'error' with a short prefix.
  const runtime = createRuntime({ name: 'app', logger: consoleLogger('error', '  [log]') });
  runtime.events.on('process.exited', ({ pid, id, reason }) => console.log(`  exit  ${pid} ${id}: ${formatReason(reason)}`));

  const sup = await runtime.start(miniSupervisor, { name: 'sup' });
  console.log(`started supervisor ${String(sup)}\n${formatTree(runtime.tree())}\n`);

  for (let i = 0; i < 3; i++) runtime.cast('counter', 'inc');
  console.log(`counter = ${await runtime.call<number>('counter', 'get')} (pid ${runtime.whereis('counter')})`);

  console.log('crashing the counter...');
  const before = runtime.whereis('counter')!;
  runtime.cast('counter', 'crash');
  await runtime.exited(before);
  console.log(`counter = ${await runtime.call<number>('counter', 'get')} (new pid ${runtime.whereis('counter')}), restarts = ${await runtime.call('sup', 'restarts')}`);
  console.log(`\n${formatTree(runtime.tree())}\n`);

  await runtime.shutdown();
  console.log(`shut down; ${runtime.stats().alive} processes alive`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
