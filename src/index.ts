/**
 * xotp: Erlang/OTP supervision for TypeScript, built on xstate v5.
 *
 * @packageDocumentation
 */
export { createRuntime, Runtime, pidOf, runtimeOf } from './runtime/runtime.js';
export type {
  RuntimeOptions,
  SpawnOptions,
  CallOptions,
  StopOptions,
  ShutdownOptions,
  Target,
  TrackedResource,
  RuntimeStats,
  ResolveResult,
} from './runtime/runtime.js';
export { Pid, isPid } from './runtime/pid.js';
export type { PidLike } from './runtime/pid.js';
export { isCleanExit, isShutdownTuple, formatReason } from './runtime/exitReason.js';
export { exitWith } from './runtime/exitWith.js';
export type { ExitWithOutput } from './runtime/exitWith.js';
export { processMachine } from './runtime/processMachine.js';
export type { ProcessMachine, ProcessMachineEvent, ProcessMachineOptions, ProcessInitEvent } from './runtime/processMachine.js';
export type { ExitReason } from './runtime/exitReason.js';
export {
  XotpError,
  NoProcessError,
  TimeoutError,
  AbortError,
  InvalidOptionError,
  AlreadyRegisteredError,
  ProcessExitError,
  StartError,
  RuntimeStoppedError,
  LeakError,
  UnknownRegistryError,
  NotSerializableError,
} from './runtime/errors.js';
export { MemoryNetwork } from './runtime/memoryTransport.js';
export type { Transport, TransportEndpoint, TransportHandler, TransportRequestOptions, Respond } from './runtime/transport.js';
export { systemClock } from './runtime/clock.js';
export type { RuntimeClock } from './runtime/clock.js';
export { consoleLogger, silentLogger } from './runtime/logger.js';
export type { Logger, LogLevel, LogMeta } from './runtime/logger.js';
export type * from './runtime/events.js';
export { processProtocol } from './runtime/messages.js';
export type {
  CallFrom,
  ExitMessage,
  DownMessage,
  CallMessage,
  CastMessage,
  StopRequestMessage,
  RuntimeMessage,
  ProcessProtocol,
  StartAck,
} from './runtime/messages.js';
export type { ProcessInfo, ProcessTreeNode } from './runtime/processInfo.js';
export { isViaName } from './runtime/nameService.js';
export type { ViaName, NameService, FallbackResolver } from './runtime/nameService.js';
export { defineServer } from './server/defineServer.js';
export type {
  ServerDefinition,
  ServerContext,
  ServerSnapshot,
  ServerLogic,
  InitResult,
  ServerResult,
  CallResult,
  InfoMessage,
} from './server/defineServer.js';
export { supervisor } from './supervisor/supervisor.js';
export { dynamicSupervisor } from './supervisor/dynamicSupervisor.js';
export {
  startChild,
  terminateChild,
  restartChild,
  deleteChild,
  whichChildren,
  countChildren,
  getChildSpec,
} from './supervisor/childManagement.js';
export type {
  StartChildResult,
  RestartChildResult,
  TerminateChildResult,
  DeleteChildResult,
  ChildInfo,
  ChildCounts,
} from './supervisor/childManagement.js';
export { ChildSpecError } from './supervisor/childSpec.js';
export type {
  ChildSpec,
  NormalizedChildSpec,
  RestartType,
  Shutdown,
  ChildType,
  StartFunction,
  StartFunctionResult,
  ChildStartContext,
  ChildSpecProblem,
} from './supervisor/childSpec.js';
export { SupervisorFlagsError } from './supervisor/supervisorFlags.js';
export type { SupervisorOptions, DynamicSupervisorOptions, Strategy, AutoShutdown } from './supervisor/supervisorFlags.js';
export type * from './supervisor/events.js';
export { registry } from './registry/registry.js';
export type { RegistryOptions } from './registry/registry.js';
export { Registry } from './registry/registryApi.js';
export type { SelectSpec } from './registry/registryApi.js';
export { RegistryKindError } from './registry/registryState.js';
export type { RegistryEntry, RegistryRegisterEvent, RegistryUnregisterEvent } from './registry/registryState.js';
export { anything } from './registry/pattern.js';
export type { Pattern, PatternObject } from './registry/pattern.js';
export { pythonBridge, pythonPackageDir } from './bridge/pythonBridge.js';
export type { PythonBridgeOptions } from './bridge/pythonBridge.js';
export { callBridge, bridgeInfo, awaitBridgeReady } from './bridge/bridgeClient.js';
export type { BridgeCallOptions } from './bridge/bridgeClient.js';
export type { BridgeInfo, BridgeStats } from './bridge/bridgeCore.js';
export {
  BridgeNotRunningError,
  BridgeExitedError,
  BridgeStartupError,
  PythonNotFoundError,
  BridgeWedgedError,
  ProtocolError,
  PythonError,
  BridgeOverloadedError,
  PayloadTooLargeError,
} from './bridge/bridgeErrors.js';
export { resolvePython } from './bridge/pythonInterpreter.js';
export type { PythonLookup } from './bridge/pythonInterpreter.js';
export { checkEnvironment, assertEnvironment, EnvironmentError } from './bridge/environmentCheck.js';
export type { EnvironmentCheckOptions, EnvironmentReport, EnvironmentProblem } from './bridge/environmentCheck.js';
export { backoffDelay } from './recovery/backoff.js';
export type { BackoffKind, BackoffOptions } from './recovery/backoff.js';
export { retry, isRetryable } from './recovery/retry.js';
export type { RetryOptions, RetryRun, RetryAttempt } from './recovery/retry.js';
export { circuitBreaker, Circuit } from './recovery/circuitBreaker.js';
export type { CircuitBreakerOptions } from './recovery/circuitBreaker.js';
export { countsAsFailure } from './recovery/breakerCore.js';
export type { BreakerOptions, BreakerState, BreakerStatus } from './recovery/breakerCore.js';
export { RecoveryOrchestrator } from './recovery/recoveryOrchestrator.js';
export type { RecoveryOptions, RecoveryStatus, RecoveryStrategy } from './recovery/recoveryOrchestrator.js';
export { CircuitOpenError, RecoveryCapacityExceededError } from './recovery/recoveryErrors.js';
export { errorCodes, errorKindOf } from './runtime/errorTaxonomy.js';
// errorCodes() lists every documented code, also those of the entry points not loaded yet
// (xotp/cluster's pool_unreachable, xotp/testing's stalled): both modules are plain data.
import './cluster/remotePoolErrors.js';
import './testing/stalledError.js';
export type { ErrorCategory, ErrorKind } from './runtime/errorTaxonomy.js';
export { pool } from './workers/pool.js';
export type { PoolOptions } from './workers/pool.js';
export { Pool } from './workers/poolClient.js';
export type { PoolRunOptions } from './workers/poolClient.js';
export { poolHandle } from './workers/poolHandle.js';
export type { PoolHandle, PoolOps, PoolWorker, PoolCheckoutOptions, OpArgs, OpResult } from './workers/poolHandle.js';
export type { PoolStatus, PoolStats, PoolWorkerStatus, PoolBackoff, Lease, CheckinOutcome } from './workers/poolManager.js';
export type * from './workers/poolEvents.js';
export type { SessionState } from './workers/sessionTable.js';
export { WorkerLifecycle, InvalidTransitionError } from './workers/workerLifecycle.js';
export type { WorkerState, WorkerTransition } from './workers/workerLifecycle.js';
export { CheckoutTimeoutError, PoolBusyError, PoolStartError, PoolStoppedError, SessionExpiredError, SessionLostError, SessionsDisabledError } from './workers/poolErrors.js';
export type * from './workers/poolTelemetry.js';
export { pythonService, Service } from './workers/pythonService.js';
export type { PythonServiceOptions, ServicePoolOptions, ServiceStatus, ServiceRunOptions, ServiceBackend, BackendChoice, ServiceCallEvent, ServiceStartedEvent } from './workers/pythonService.js';
export { ServiceBackendError } from './workers/serviceErrors.js';
export type { FakeBackendOptions, FakeHandler, FakeCallContext, FakeStatus } from './workers/fakeBackend.js';
export type { OrphanSweepResult, PoolRunRecord } from './workers/orphanSweep.js';
