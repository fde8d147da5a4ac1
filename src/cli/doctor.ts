import { checkEnvironment, type EnvironmentCheckOptions } from '../index.js';
import type { DemoOutput } from './demoView.js';

/**
 * `xotp doctor`: runs `checkEnvironment` and prints what it found, each problem with its fix.
 * Returns the exit code: 0 when the environment can run the Python side, 1 otherwise.
 */
export async function doctor(options: EnvironmentCheckOptions, out: DemoOutput = process.stdout): Promise<number> {
  const report = await checkEnvironment(options);
  const py = report.python;
  out.write(py.version ? `python: ${py.version} at ${py.executable} (from '${py.command}')\n` : `python: not usable (from '${py.command}')\n`);
  if (report.module) {
    out.write(
      report.module.importable
        ? `module: ${report.module.name} imports; handlers: ${report.module.handlers.join(', ') || 'none'}\n`
        : `module: ${report.module.name} does not import\n`,
    );
  }
  for (const p of report.problems) out.write(`problem: ${p.message}\n  fix: ${p.hint}\n`);
  out.write(report.ok ? 'ok: xotp can run Python workers here\n' : `${report.problems.length} problem(s)\n`);
  return report.ok ? 0 : 1;
}
