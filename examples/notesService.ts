/**
 * A small Python service declared once with `pythonService`: notes kept per session in Python
 * (`ctx.state`), and a word count. Production runs it on a pool of Python bridges; unit tests run
 * the same code on the in-process fake (`XOTP_BACKEND=fake`), with no Python at all — the fake
 * handlers below mirror examples/python/notes_handlers.py. `npx tsx examples/notesService.ts`
 * runs it (`XOTP_BACKEND=fake npx tsx examples/notesService.ts` without Python).
 */
import { fileURLToPath } from 'node:url';
import { createRuntime, consoleLogger, pythonService, Service, type Runtime } from '../src/index.js';

/** The service's definition: what runs is chosen when it starts (option, XOTP_BACKEND, 'pool'). */
export const notesService = pythonService({
  name: 'notes',
  bridge: { module: 'notes_handlers', cwd: fileURLToPath(new URL('./python', import.meta.url)) },
  pool: { size: 2, sessions: { ttl: 60_000 } },
  fake: {
    handlers: {
      add_note: ({ text }: { text: string }, ctx) => {
        const notes = ((ctx.state!.notes as string[] | undefined) ??= []);
        notes.push(text);
        return { count: notes.length };
      },
      notes: (_args: unknown, ctx) => ({ notes: [...((ctx.state!.notes as string[] | undefined) ?? [])] }),
      word_count: ({ text }: { text: string }) => ({ words: text.split(/\s+/).filter(Boolean).length }),
    },
  },
});

/** The application's own functions: they do not know which backend runs. */
export async function addNote(runtime: Runtime, user: string, text: string): Promise<number> {
  const { count } = await Service.run<{ count: number }>(runtime, 'notes', 'add_note', { text }, { session: user });
  return count;
}

export async function notesOf(runtime: Runtime, user: string): Promise<string[]> {
  const { notes } = await Service.run<{ notes: string[] }>(runtime, 'notes', 'notes', {}, { session: user });
  return notes;
}

export async function wordCount(runtime: Runtime, text: string): Promise<number> {
  const { words } = await Service.run<{ words: number }>(runtime, 'notes', 'word_count', { text });
  return words;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runtime = createRuntime({ name: 'notes', logger: consoleLogger('info', '  [log]') });
  await runtime.start(notesService);
  await addNote(runtime, 'ada', 'buy milk');
  await addNote(runtime, 'ada', 'call bob');
  await addNote(runtime, 'bob', 'write tests');
  console.log('ada:', await notesOf(runtime, 'ada'), 'bob:', await notesOf(runtime, 'bob'));
  console.log('words:', await wordCount(runtime, 'the quick brown fox'));
  console.log('backend:', (await Service.status(runtime, 'notes')).backend);
  await runtime.shutdown();
}
