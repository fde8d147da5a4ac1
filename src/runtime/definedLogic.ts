import type { AnyStateMachine } from 'xstate';

/**
 * What a machine shared by many definitions is started with: the definition its actor runs (a
 * supervisor's flags, a breaker's settings) and the input its process was spawned with.
 *
 * @internal
 */
export class DefinedInput<D> {
  constructor(
    readonly definition: D,
    readonly input: unknown,
  ) {}
}

/**
 * `machine` as one definition of it: a small object whose prototype is the machine, so that
 * `transition`, `config` (inspectors read it), `id`, `root` and `instanceof StateMachine` are the
 * machine's, and whose own `getInitialSnapshot` hands the machine `definition` with the spawn's
 * input (its context reads them with `definitionOf`).
 *
 * Why: building an xstate machine costs about 1 ms and tens of KB kept for the definition's life
 * (its state nodes and transitions), and factories such as `supervisor()` built one per call. OTP's
 * `supervisor:start_link(Module, Args)` takes a plain term; so does a definition here.
 *
 * The machine's own methods are bound to it by xstate, so they run on the shared machine whatever
 * object they are called through. `provide` returns the same definition over the re-implemented
 * machine.
 *
 * @internal
 */
export function definedLogic<M extends AnyStateMachine, D>(machine: M, definition: D): M {
  const logic = Object.create(machine) as M;
  logic.getInitialSnapshot = ((scope: never, input: unknown) => machine.getInitialSnapshot(scope, new DefinedInput(definition, input))) as M['getInitialSnapshot'];
  // The same definition over the re-implemented machine, with the marks set on the machine and
  // on this definition (the process protocol the runtime reads): xstate's own `provide` would
  // return a bare machine.
  logic.provide = ((implementations: Parameters<M['provide']>[0]) => {
    const provided = definedLogic(machine.provide(implementations) as M, definition);
    for (const from of [machine, logic]) {
      for (const key of Object.getOwnPropertySymbols(from)) Object.defineProperty(provided, key, Object.getOwnPropertyDescriptor(from, key)!);
    }
    return provided;
  }) as M['provide'];
  return logic;
}

/**
 * The definition and spawn input a shared machine's context receives (see `definedLogic`).
 *
 * @throws Error when the machine was started some other way (the shared machine itself).
 * @internal
 */
export function definitionOf<D>(input: unknown, what: string): DefinedInput<D> {
  if (!(input instanceof DefinedInput)) throw new Error(`${what} was started without its definition: spawn what its factory returns`);
  return input as DefinedInput<D>;
}
