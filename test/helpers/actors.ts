import { fromCallback, fromPromise, setup, type AnyActorLogic } from 'xstate';
import { defineServer, type ExitMessage, type DownMessage } from '../../src/index.js';

/** A process that does nothing until it is told to exit (an xstate callback actor). */
export const idle: AnyActorLogic = fromCallback(() => () => undefined);

/** Records every event it receives into the given array (input: the array). */
export const recorder = fromCallback<{ type: string }, unknown[]>(({ input, receive }) => {
  receive((event) => {
    input.push(event);
  });
});

/** A machine that ends (`done`, i.e. reason normal) when sent `finish`, and throws on `crash`. */
export const finisher = setup({}).createMachine({
  id: 'finisher',
  initial: 'running',
  states: {
    running: {
      on: {
        finish: 'done',
        crash: {
          actions: () => {
            throw new Error('crashed_on_demand');
          },
        },
      },
    },
    done: { type: 'final' },
  },
});

/** A promise actor that rejects with the given error (input). */
export const rejecting = fromPromise<never, Error>(async ({ input }) => {
  throw input;
});

type Inbox = Array<ExitMessage | DownMessage | { type: string }>;

/**
 * A server that records every info message (trapped exits, DOWNs, plain events) in `state`
 * and answers `'inbox'` calls with it. `input.trap` makes it trap exits.
 */
export const inboxServer = defineServer<Inbox, { trap?: boolean } | undefined, 'inbox', Inbox>({
  name: 'inbox',
  init: (args, ctx) => {
    if (args?.trap) ctx.trapExit(true);
    return { state: [] };
  },
  handleCall: (_req, _from, state) => ({ reply: state }),
  handleInfo: (msg, state) => ({ state: [...state, msg as Inbox[number]] }),
});
