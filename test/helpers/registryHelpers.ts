/**
 * Helpers for the Registry conformance tests (otp-semantics §3): starting a registry the way
 * `Registry.start_link` does, its partitions, a stand-in for "the calling process" (Elixir
 * registers `self()`; xotp takes an explicit owner), an Elixir `Agent`, and a listener.
 */
import type { ExecutionContext } from 'ava';
import {
  registry,
  whichChildren,
  defineServer,
  Pid,
  type RegistryOptions,
  type Target,
} from '../../src/index.js';
import { RegistryState } from '../../src/registry/registryState.js';
import type { TestRuntime } from '../../src/testing/index.js';
import { idle, recorder } from './actors.js';

/** `Registry.start_link(keys:, name:, partitions:, ...)` at the top level; returns the registry's (supervisor) pid. */
export async function startRegistry(t: ExecutionContext, rt: TestRuntime, options: RegistryOptions): Promise<Pid> {
  const pid = await rt.start(registry(options));
  if (pid === 'ignore') {
    t.fail('the registry start was ignored');
    throw new Error('ignored');
  }
  return pid;
}

/** The partition pids of a registry (sorted by child id: partition-0, partition-1, ...). */
export async function partitionsOf(rt: TestRuntime, reg: Target): Promise<Pid[]> {
  const rows = await whichChildren(rt, reg);
  return rows
    .slice()
    .sort((a, b) => Number(a.id!.split('-')[1]) - Number(b.id!.split('-')[1]))
    .map((r) => {
      if (!(r.pid instanceof Pid)) throw new Error(`partition ${r.id} is not running (${String(r.pid)})`);
      return r.pid;
    });
}

/**
 * A process standing in for Elixir's test process or a `Task`: idle until it is told to exit
 * (it does not trap exits).
 */
export function proc(rt: TestRuntime): Pid {
  return rt.spawn(idle);
}

/** `n` such processes. */
export function procs(rt: TestRuntime, n: number): Pid[] {
  return Array.from({ length: n }, () => proc(rt));
}

/** The registry's tables (internal), to check what Elixir checks on its ETS tables. */
export function tablesOf(rt: TestRuntime, name: string): RegistryState {
  const service = rt.nameService(name);
  if (!(service instanceof RegistryState)) throw new Error(`'${name}' is not a Registry`);
  return service;
}

/** Elixir's `Agent`: `call(a, 'get')` gives the state; `cast(a, { set })`, `cast(a, { add })`. */
export const agent = defineServer<unknown, unknown, 'get', unknown, { set: unknown } | { add: number }>({
  name: 'agent',
  init: (initial) => ({ state: initial }),
  handleCall: (_req, _from, state) => ({ reply: state }),
  handleCast: (msg, state) => ({ state: 'set' in msg ? msg.set : (state as number) + msg.add }),
});

/** A listener: a named process recording every event it gets. Returns the array it fills. */
export function listener(rt: TestRuntime, name: string): Array<{ type: string } & Record<string, unknown>> {
  const inbox: Array<{ type: string } & Record<string, unknown>> = [];
  rt.spawn(recorder, { name, input: inbox });
  return inbox;
}

/** `[{ pid, value }]` with pids as strings, sorted: for order-independent comparisons. */
export function entries(list: ReadonlyArray<{ pid: Pid; value: unknown }>): Array<[string, unknown]> {
  return list.map((e): [string, unknown] => [String(e.pid), e.value]).sort((a, b) => (a[0] + JSON.stringify(a[1]) < b[0] + JSON.stringify(b[1]) ? -1 : 1));
}

/** Pids as sorted strings. */
export function pids(list: ReadonlyArray<Pid | { pid: Pid }>): string[] {
  return list.map((p) => String(p instanceof Pid ? p : p.pid)).sort();
}

/** The partitions the two Elixir runs use. */
export const PARTITIONS = [1, 8] as const;
