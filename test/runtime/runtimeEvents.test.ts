/**
 * `runtime.events` listeners cannot break the runtime: events are emitted from inside kernel
 * and supervisor steps, and a listener that throws is logged once and ignored; the other
 * listeners still run; `off` takes the function that was added.
 */
import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { supervisor, defineServer, whichChildren, type Logger } from '../../src/index.js';

const server = defineServer<null, undefined, 'ping', string, never>({ name: 's', init: () => ({ state: null }), handleCall: () => ({ reply: 'pong' }) });

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, debug() {}, info() {}, warn() {}, error: (message: string) => void errors.push(message) };
}

test('regression: a runtime.events listener that threw failed the supervisor it was listening to ("failed to start: listener bug")', async (t) => {
  const logger = recordingLogger();
  await using rt = createTestRuntime({ logger });
  const seen: string[] = [];
  rt.events.on('supervisor.childStarted', () => {
    throw new Error('listener bug');
  });
  rt.events.on('supervisor.childStarted', (e) => void seen.push(e.id));
  await rt.start(supervisor({ children: [{ id: 'a', start: server }, { id: 'b', start: server }] }), { name: 'sup' });
  t.deepEqual((await whichChildren(rt, 'sup')).map((c) => c.id).sort(), ['a', 'b']);
  t.deepEqual(seen, ['a', 'b'], 'the other listener ran for both');
  t.is(logger.errors.length, 1, 'logged once, not per event');
  t.regex(logger.errors[0]!, /a listener of runtime event 'supervisor\.childStarted' threw .*listener bug/);
});

test('off removes a listener by the function that was added; once runs once', (t) => {
  const rt = createTestRuntime();
  let n = 0;
  const fn = () => void n++;
  const base = rt.events.listenerCount('name.registered'); // the test runtime's own
  rt.events.on('name.registered', fn);
  rt.events.once('name.registered', fn);
  t.is(rt.events.listenerCount('name.registered'), base + 2);
  rt.events.emit('name.registered', { name: 'x', pid: rt.self });
  t.is(n, 2);
  t.is(rt.events.listenerCount('name.registered'), base + 1, 'the once listener is gone');
  rt.events.off('name.registered', fn);
  t.is(rt.events.listenerCount('name.registered'), base);
  rt.events.emit('name.registered', { name: 'x', pid: rt.self });
  t.is(n, 2);
});

test('off removes every registration of a function, as EventEmitter3 does; a wrapper from listeners() works too', (t) => {
  const rt = createTestRuntime();
  let n = 0;
  const fn = () => void n++;
  const base = rt.events.listenerCount('name.registered');
  rt.events.on('name.registered', fn);
  rt.events.on('name.registered', fn);
  rt.events.once('name.registered', fn);
  t.is(rt.events.listenerCount('name.registered'), base + 3);
  rt.events.off('name.registered', fn);
  t.is(rt.events.listenerCount('name.registered'), base, 'all three registrations gone');
  rt.events.off('name.registered', () => undefined); // never added: nothing happens
  t.is(rt.events.listenerCount('name.registered'), base);

  rt.events.on('name.registered', fn);
  const added = rt.events.listeners('name.registered').at(-1)!;
  rt.events.removeListener('name.registered', added);
  t.is(rt.events.listenerCount('name.registered'), base);
  rt.events.emit('name.registered', { name: 'x', pid: rt.self });
  t.is(n, 0);
});

test('a listener added again logs its own first error', (t) => {
  const logger = recordingLogger();
  const rt = createTestRuntime({ logger });
  const bad = () => {
    throw new Error('bug');
  };
  rt.events.once('name.registered', bad);
  rt.events.emit('name.registered', { name: 'x', pid: rt.self });
  rt.events.once('name.registered', bad);
  rt.events.emit('name.registered', { name: 'x', pid: rt.self });
  t.is(logger.errors.length, 2, 'each registration reports its first error');
});

test('off with no function (undefined or null) removes every listener of the event, as EventEmitter3 does', (t) => {
  const rt = createTestRuntime();
  rt.events.on('name.unregistered', () => undefined);
  rt.events.on('name.unregistered', () => undefined);
  t.true(rt.events.listenerCount('name.unregistered') >= 2);
  rt.events.off('name.unregistered', null as never);
  t.is(rt.events.listenerCount('name.unregistered'), 0);
});

test('a listener taken from listeners() and added again is removed by off', (t) => {
  const rt = createTestRuntime();
  let n = 0;
  const base = rt.events.listenerCount('name.unregistered'); // the test runtime's own
  rt.events.on('name.registered', () => void n++);
  const added = rt.events.listeners('name.registered').at(-1)!;
  rt.events.on('name.unregistered', added as never);
  t.is(rt.events.listenerCount('name.unregistered'), base + 1);
  rt.events.off('name.unregistered', added as never);
  t.is(rt.events.listenerCount('name.unregistered'), base);
  rt.events.emit('name.registered', { name: 'x', pid: rt.self });
  t.is(n, 1);
});
