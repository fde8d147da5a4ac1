import type { ExitMessage } from '../runtime/messages.js';
import { AlreadyRegisteredError } from '../runtime/errors.js';
import { defineServer } from '../server/defineServer.js';
import { RegistryState, type RegistryConfig } from './registryState.js';

/** @internal */
export interface PartitionInput {
  config: RegistryConfig;
  index: number;
}

/**
 * One registry partition: a process that traps exits, is linked to the processes registered in
 * its share of the tables, and removes their entries when they exit (Elixir's
 * Registry.Partition). The first partition of a registry to start creates the shared tables and
 * publishes them under the registry's name; when the last one is gone, so is the registry.
 *
 * @internal
 */
export const registryPartition = defineServer<RegistryState, PartitionInput>({
  name: 'partition',
  trapExit: true,
  init: ({ config, index }, ctx) => {
    const rt = ctx.runtime;
    let state: RegistryState;
    let existing = rt.nameServices().includes(config.name) ? rt.nameService(config.name) : undefined;
    if (existing instanceof RegistryState && existing.supervisor.id !== ctx.parent.id && !rt.isAlive(existing.supervisor)) {
      // The previous incarnation's supervisor is dead but its partitions have not all gone yet
      // (its parent restarted it in the same turn): its tables die with it, as ETS tables would.
      existing.retire();
      existing = undefined;
    }
    if (existing === undefined) {
      state = new RegistryState(rt, config, ctx.parent);
      const unpublish = rt.registerNameService(state);
      state.onEmpty = unpublish;
    } else if (existing instanceof RegistryState && existing.supervisor.id === ctx.parent.id) {
      state = existing;
    } else {
      // Another registry (or name service) already runs under this name.
      const owner = existing instanceof RegistryState ? existing.supervisor : undefined;
      return { stop: new AlreadyRegisteredError(config.name, owner, `a registry named '${config.name}' is already running${owner ? ` (${owner})` : ''}`) };
    }
    state.attach(index, ctx.self);
    return { state };
  },
  handleInfo: (msg, state) => {
    if ((msg as ExitMessage).type === 'xotp.exit') state.removeOwner((msg as ExitMessage).from.id);
  },
});
