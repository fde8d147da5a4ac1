/**
 * examples/notesService.ts tested the way a user would test their own service: on the fake
 * backend, with no Python at all (`XOTP_PYTHON=/nonexistent npx ava test/examples/notesService.test.ts`
 * passes too). The backend comes from XOTP_BACKEND, set here before the service starts.
 */
import test from 'ava';
import { createTestRuntime, Service } from '../../src/testing/index.js';
import { addNote, notesOf, notesService, wordCount } from '../../examples/notesService.js';

process.env.XOTP_BACKEND = 'fake';

test('notes are kept per user session; each user sees only their own', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(notesService);
  Service.expect(rt, 'notes', 'fake');
  t.is(await addNote(rt, 'ada', 'buy milk'), 1);
  t.is(await addNote(rt, 'ada', 'call bob'), 2);
  t.is(await addNote(rt, 'bob', 'write tests'), 1);
  t.deepEqual(await notesOf(rt, 'ada'), ['buy milk', 'call bob']);
  t.deepEqual(await notesOf(rt, 'bob'), ['write tests']);
});

test("a user's notes expire with their session (the pool's 60 s TTL, on the test clock)", async (t) => {
  await using rt = createTestRuntime();
  await rt.start(notesService);
  await addNote(rt, 'ada', 'buy milk');
  await rt.advance(60_001);
  await t.throwsAsync(notesOf(rt, 'ada'), { code: 'session_expired' });
});

test('word count', async (t) => {
  await using rt = createTestRuntime();
  await rt.start(notesService);
  t.is(await wordCount(rt, ' the quick  brown fox '), 4);
  t.like(await Service.status(rt, 'notes'), { backend: 'fake', chosenBy: 'environment', reason: 'XOTP_BACKEND=fake' });
});
