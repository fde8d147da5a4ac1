/**
 * `xotp/inspect`: views of a runtime's process tree. Pass an xstate inspector (for example
 * `@statelyai/inspect`) as `createRuntime({ inspect })` to see every actor live; these helpers
 * give the same tree as data and text.
 *
 * @packageDocumentation
 */
export { formatTree } from './formatTree.js';
export type { ProcessTreeNode, ProcessInfo } from '../runtime/processInfo.js';
