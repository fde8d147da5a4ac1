/**
 * `xotp/inspect`: views of a runtime's process tree. Pass an xstate inspector (for example
 * `@statelyai/inspect`) as `createRuntime({ inspect })` to see every actor live; these helpers
 * give the same tree as data (`inspectTree`), text (`formatTree`), a Mermaid flowchart
 * (`toMermaid`) and a live local page (`serveViewer`).
 *
 * @packageDocumentation
 */
export { formatTree } from './formatTree.js';
export { toMermaid } from './toMermaid.js';
export { inspectTree, stateText } from './inspectTree.js';
export type { InspectedNode, InspectTreeOptions, NodeKind, IdleChild } from './inspectTree.js';
export { recordLifecycle } from './lifecycleLog.js';
export type { LifecycleLog, LifecycleLogOptions, LifecycleEntry, ExitRecord } from './lifecycleLog.js';
export { serveViewer } from './serveViewer.js';
export type { Viewer, ViewerOptions } from './serveViewer.js';
export { serializeReason } from '../runtime/serializeReason.js';
export type { SerializedError } from '../runtime/serializeReason.js';
export { recordOtelMetrics } from './otelMetrics.js';
export type { OtelMetrics, OtelMetricsOptions, MeterLike } from './otelMetrics.js';
export { stateColour } from './stateColour.js';
export type { StateColour } from './stateColour.js';
export type { ProcessTreeNode, ProcessInfo } from '../runtime/processInfo.js';
