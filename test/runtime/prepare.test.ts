/**
 * `ProcessProtocol.prepare`: work a logic begins as the runtime spawns it, before its actor is
 * built (a bridge spawns its OS process). The process takes it while it starts (from its record);
 * what it did not take is discarded right after its start, so nothing begun for it is left.
 */
import test from 'ava';
import { fromCallback } from 'xstate';
import { createTestRuntime } from '../../src/testing/index.js';
import { processProtocol, type Pid } from '../../src/index.js';
import { recordOf } from '../../src/runtime/processRecord.js';

function preparing(take: boolean, log: string[], prepare?: (input: unknown, id: string) => { discard(): void } | undefined) {
  const logic = fromCallback(({ self }) => {
    log.push('started');
    const rec = recordOf(self);
    if (take && rec?.prepared) {
      log.push('took');
      rec.prepared = undefined;
    }
    return () => undefined;
  });
  Object.assign(logic, {
    [processProtocol]: {
      gracefulStop: false,
      acksStart: false,
      prepare:
        prepare ??
        ((input: unknown, id: string) => {
          log.push(`prepare ${JSON.stringify(input)} ${id}`);
          return { discard: () => void log.push('discarded') };
        }),
    },
  });
  return logic;
}

test('a prepared value the process takes while starting is not discarded', async (t) => {
  await using rt = createTestRuntime();
  const log: string[] = [];
  const pid = (await rt.start(preparing(true, log), { input: { x: 1 }, id: 'p' })) as Pid;
  t.deepEqual(log, [`prepare {"x":1} ${rt.name}/p`, 'started', 'took']);
  await rt.stop(pid);
});

test('a prepared value the process did not take is discarded once, right after its start', async (t) => {
  await using rt = createTestRuntime();
  const log: string[] = [];
  const pid = (await rt.start(preparing(false, log), { id: 'q' })) as Pid;
  t.deepEqual(log, [`prepare undefined ${rt.name}/q`, 'started', 'discarded']);
  await rt.stop(pid);
  t.is(log.filter((l) => l === 'discarded').length, 1);
});

test('a prepare that throws or returns nothing does not stop the spawn', async (t) => {
  await using rt = createTestRuntime();
  const log: string[] = [];
  const a = (await rt.start(
    preparing(false, log, () => {
      throw new Error('no head start');
    }),
  )) as Pid;
  const b = (await rt.start(preparing(false, log, () => undefined))) as Pid;
  t.deepEqual(log, ['started', 'started']);
  await rt.stop(a);
  await rt.stop(b);
});
