import test from 'ava';
import { createTestRuntime } from '../../src/testing/index.js';
import { walkthrough } from '../../examples/app.js';

test.serial("examples/app (DESIGN's composition): registry + via-named service + pool of Python bridges with sessions under one supervisor", async (t) => {
  await using rt = createTestRuntime({ name: 'app' });
  const lines: string[] = [];
  const run = await walkthrough(rt, (line) => lines.push(line));
  t.is(run.greeting, 'hello, world');
  t.is(new Set(run.sessionPids).size, 1, "a session's calls all ran on one Python process");
  t.true(run.replacedWorker, 'the killed worker was replaced');
  t.regex(run.tree, /app\/app\/py\/workers/);
  t.regex(run.tree, /app\/app\/services\/partition-0/);
  t.true(lines.some((l) => l.startsWith('greeter (found through the registry)')));
});
