/**
 * xotp/cluster: transports between nodes. Only this entry point imports the NATS client, so
 * `import 'xotp'` never needs it (`@nats-io/transport-node` is an optional peer dependency).
 *
 * @packageDocumentation
 */
export { connectNats, NatsTransport } from './natsTransport.js';
export type { NatsTransportOptions } from './natsTransport.js';
export { clusterNames, ClusterNames } from './clusterNames.js';
export type { ClusterNamesOptions, ClusterNameLost, ClusterNameTaken } from './clusterNames.js';
export { clusterGroups, ClusterGroups } from './clusterGroups.js';
export type { ClusterGroupsOptions } from './clusterGroups.js';
export { servePool, remotePool } from './remotePool.js';
export type { PoolService, RemotePool, RemotePoolOptions, RemotePoolRunOptions } from './remotePool.js';
export { PoolUnreachableError } from './remotePoolErrors.js';
