import { flagsSource, type SupervisorOptions } from './supervisorFlags.js';
import { createSupervisorMachine } from './supervisorMachine.js';

/**
 * A static supervisor (OTP `supervisor` with one_for_one, one_for_all or rest_for_one; Elixir
 * `Supervisor`) as xstate machine logic. Spawn it like any process; it traps exits, starts its
 * children in order (linked to it and placed under it in the tree), restarts them per strategy
 * and restart type within its restart intensity, and stops them in reverse order.
 *
 * Options may be given as a function of the spawn `input` (Elixir's `init/1`); it may return
 * `'ignore'` (the start then resolves `'ignore'`) or throw (the start fails).
 *
 * @example
 * ```ts
 * const app = supervisor({
 *   strategy: 'one_for_one', maxRestarts: 3, maxSeconds: 5,
 *   children: [
 *     { id: 'cache', start: cacheServer },
 *     { id: 'workers', start: dynamicSupervisor({ maxChildren: 100 }) },
 *   ],
 * });
 * await runtime.start(app, { name: 'app' });
 * ```
 * @throws InvalidOptionError (`SupervisorFlagsError` / `ChildSpecError` with OTP's reason) for
 *   bad options given as an object.
 */
export function supervisor(options: SupervisorOptions | ((input: unknown) => SupervisorOptions | 'ignore')) {
  const { label, init } = flagsSource(options, 'static');
  return createSupervisorMachine('static', label ?? 'supervisor', init);
}
