/**
 * Model-based supervisor tests (issue 9): random supervision trees and random command
 * sequences, checked after every step against the reference model of OTP's rules in
 * supervisorModel.ts.
 *
 * Runs XOTP_PROPERTY_RUNS sequences (default 1000); XOTP_PROPERTY_SEED replays one run. A
 * failure prints the seed, the replay path and the shrunk tree and command sequence.
 */
import test from 'ava';
import fc from 'fast-check';
import { SupervisorModel } from './supervisorModel.js';
import { RealTree, commandArbs, describeTree, treeArb } from './supervisorCommands.js';

const runs = Number(process.env.XOTP_PROPERTY_RUNS ?? 1000);
const seed = process.env.XOTP_PROPERTY_SEED === undefined ? undefined : Number(process.env.XOTP_PROPERTY_SEED);
const path = process.env.XOTP_PROPERTY_PATH;

test(`supervisors agree with the OTP model on ${runs} random trees and command sequences`, async (t) => {
  t.timeout(Math.max(60_000, runs * 400));
  const tree = treeArb.map((flags) => ({ flags, [fc.toStringMethod]: () => describeTree(flags) }));
  let real: RealTree | undefined;
  const property = fc.asyncProperty(tree, fc.commands(commandArbs, { maxCommands: 40, size: 'max' }), async ({ flags }, cmds) => {
    real = await RealTree.start(flags);
    try {
      const model = new SupervisorModel(flags);
      const r = real;
      await fc.asyncModelRun(() => ({ model, real: r }), cmds);
    } finally {
      await real.rt.dispose();
      real = undefined;
    }
  });
  const details = await fc.check(property, { numRuns: runs, ...(seed !== undefined ? { seed, ...(path ? { path } : {}) } : {}) });
  if (details.failed) {
    const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    t.fail(
      `${fc.defaultReportMessage(details) ?? 'property failed'}\n\n` +
        `Replay: XOTP_PROPERTY_SEED=${details.seed} XOTP_PROPERTY_PATH=${details.counterexamplePath} npx ava test/property\n\n` +
        `What differed (first check that failed after the last command):\n${error}`,
    );
    return;
  }
  t.pass(`${details.numRuns} sequences`);
});
