import { createRuntime, defineServer } from '../src/index.js';
const rt = createRuntime({ name: 'app' });
const counter = defineServer({
  name: 'counter',
  init: (n: number) => ({ state: n }),
  handleCall: (req: 'get', _f, n: number) => ({ reply: n }),
  handleCast: (m: 'inc' | 'crash', n: number) => { if (m === 'crash') throw new Error('boom'); return { state: n + 1 }; },
  terminate: async (r, s) => { console.log('terminate', r, s); },
});
const pid = rt.spawn(counter, { input: 5, name: 'c' });
console.log(String(pid), rt.tree());
rt.cast('c', 'inc'); rt.cast(pid, 'inc');
console.log(await rt.call('c', 'get'));
rt.events.on('process.exited', (e) => console.log('exited', String(e.pid), e.reason));
rt.cast(pid, 'crash');
console.log(await rt.exited(pid));
const p2 = await rt.start(counter, { input: 1 });
console.log(p2, await rt.stop(p2 as any), await rt.stop(p2 as any));
await rt.shutdown();
