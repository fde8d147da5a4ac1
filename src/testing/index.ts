/**
 * `xotp/testing`: isolated runtimes on a simulated clock, trace recording and leak checks.
 *
 * @packageDocumentation
 */
export { createTestRuntime, TestRuntime } from './testRuntime.js';
export type { TestRuntimeOptions } from './testRuntime.js';
export { SimulatedClock, macrotask } from './simulatedClock.js';
export { TraceRecorder, lifecycleEvents } from './traceRecorder.js';
export type { TraceEntry } from './traceRecorder.js';
export { MemoryLogger } from './memoryLogger.js';
export { StalledError } from './stalledError.js';
export type { LogRecord } from './memoryLogger.js';
export { fakeBackend } from '../workers/fakeBackend.js';
export type { FakeBackendOptions, FakeHandler, FakeCallContext, FakeStatus, FakeRunOptions } from '../workers/fakeBackend.js';
export { pythonService, Service } from '../workers/pythonService.js';
export { startNatsServer, findNatsServer } from './natsServer.js';
export type { NatsServerHandle, NatsServerOptions } from './natsServer.js';
