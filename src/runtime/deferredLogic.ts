import type { AnyActorLogic } from 'xstate';

/**
 * A logic built when it is first used rather than when it is defined: `build` runs the first
 * time anything reads a member the logic does not own — in practice when the runtime creates
 * its first actor, after the logic's `ProcessProtocol.prepare` began its work.
 *
 * Why: building an xstate machine compiles and runs much of xstate the first time a Node process
 * does it (4-6 ms for the Python bridge's machine). Defined eagerly, that came before the first
 * bridge's Python was spawned; deferred, it runs while Python boots (bench/bridge, "first spawn
 * → ready of a Node process").
 *
 * What is set on the returned object is its own (mark it with its `processProtocol`, which the
 * kernel reads before building anything), and it answers the checks made of any logic
 * (`transition` and `getInitialSnapshot` are functions) without building. Once built, its
 * prototype is the built logic, so every other member (`config` for inspectors, `id`,
 * `provide`, `instanceof`) reads as the built logic's; before that, the first read of such a
 * member builds it. Symbol-keyed reads (markers other code probes for, such as the
 * supervisor's) do not build: a logic that is not built yet has not been used, so answers
 * "absent" until it is.
 */
export function deferredLogic<T extends AnyActorLogic>(build: () => T): T {
  let built: T | undefined;
  const logic: Record<PropertyKey, unknown> = {};
  const get = (): T => {
    if (built === undefined) {
      built = build();
      Object.setPrototypeOf(logic, built);
    }
    return built;
  };
  const unbuiltSymbol = (key: PropertyKey) => typeof key === 'symbol' && built === undefined;
  // Until then the prototype builds on first touch; afterwards it is out of the chain.
  const builder = new Proxy(Object.create(null) as object, {
    get: (_target, key) => (unbuiltSymbol(key) ? undefined : Reflect.get(get(), key)),
    has: (_target, key) => (unbuiltSymbol(key) ? false : key in get()),
    getPrototypeOf: () => get(),
  });
  logic.transition = (snapshot: never, event: never, scope: never) => get().transition(snapshot, event, scope);
  logic.getInitialSnapshot = (scope: never, input: never) => get().getInitialSnapshot(scope, input);
  Object.setPrototypeOf(logic, builder);
  return logic as unknown as T;
}
