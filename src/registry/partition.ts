import type { ExitMessage } from '../runtime/messages.js';
import { AlreadyRegisteredError } from '../runtime/errors.js';
import { defineServer } from '../workers/server.js';
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
    const existing = rt.nameServices().includes(config.name) ? rt.nameService(config.name) : undefined;
    if (existing === undefined) {
      state = new RegistryState(rt, config, ctx.parent);
      const unpublish = rt.registerNameService(state);
      state.onEmpty = unpublish;
    } else if (existing instanceof RegistryState && existing.supervisor.id === ctx.parent.id) {
      state = existing;
    } else {
      // Another registry (or name service) already runs under this name.
      return { stop: new AlreadyRegisteredError(config.name, undefined, `a registry named '${config.name}' is already running`) };
    }
    state.attach(index, ctx.self);
    return { state };
  },
  handleInfo: (msg, state) => {
    if ((msg as ExitMessage).type === 'xotp.exit') state.removeOwner((msg as ExitMessage).from.id);
  },
});
