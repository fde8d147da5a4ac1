import { flagsSource, type DynamicSupervisorOptions } from './supervisorFlags.js';
import { createSupervisorMachine } from './supervisorMachine.js';

/**
 * A dynamic supervisor (Elixir `DynamicSupervisor`, OTP's simple_one_for_one): no children at
 * start; `startChild(runtime, sup, spec)` adds them, each restarted one_for_one per its restart
 * type. Children are addressed by pid; `maxChildren` bounds them (restarting ones count); at
 * shutdown all are stopped at once. Options may be a function of the spawn `input` (Elixir's
 * `init/1`), which may return `'ignore'` or throw.
 *
 * @example
 * ```ts
 * const pool = dynamicSupervisor({ maxChildren: 16, extraInput: { pool: 'py' } });
 * const sup = runtime.spawn(pool, { name: 'workers' });
 * await startChild(runtime, 'workers', { start: worker, input: { n: 1 }, restart: 'transient' });
 * ```
 * @throws InvalidOptionError (`SupervisorFlagsError` with OTP's reason) for bad options.
 */
export function dynamicSupervisor(
  options: DynamicSupervisorOptions | ((input: unknown) => DynamicSupervisorOptions | 'ignore') = {},
) {
  const { label, init } = flagsSource(options, 'dynamic');
  return createSupervisorMachine('dynamic', label ?? 'dynamic-supervisor', init);
}
