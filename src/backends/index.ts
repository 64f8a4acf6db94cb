/**
 * Picks the backend for `ha.backend`: the one place that looks at it. A new backend (e.g.
 * ZooKeeper) is a `Coordinator` of its own plus one case here, its config keys and its docs.
 */
import type { Logger } from 'pino';
import type { HastateConfig } from '../config/index.ts';
import type { Backend } from './backend.ts';
import type { WorkerReport } from './coordinator.ts';
import { createEtcdCoordinator } from './etcd.ts';
import { createLeaseBackend } from './lease-backend.ts';
import { createMulticastBackend } from './multicast.ts';
import { createRedisCoordinator } from './redis.ts';
import { createSingleBackend } from './single.ts';

export type { Backend, BackendName, ElectionDeps, PersistEpochLogic } from './backend.ts';
export type { Election, ElectionView } from './election.ts';
export type { Coordinator, WorkerReport } from './coordinator.ts';

/** Which election machine `ha.backend` runs (the live view draws its diagram). */
export function electionMachineFor(config: HastateConfig): 'role' | 'lease' {
  const ha = config.ha;
  return ha.enabled && (ha.backend === 'redis' || ha.backend === 'etcd') ? 'lease' : 'role';
}

/** `report` tells a registry what this node is now (the Redis worker registry lists it). */
export function createBackend(config: HastateConfig, log: Logger, report: () => WorkerReport): Backend {
  const ha = config.ha;
  if (!ha.enabled) return createSingleBackend(config, log);
  switch (ha.backend) {
    case 'single':
      return createSingleBackend(config, log);
    case 'multicast':
      return createMulticastBackend(config, log);
    case 'redis':
      return createLeaseBackend('redis', createRedisCoordinator({ url: ha.redis.url, keyPrefix: ha.redis.keyPrefix, nodeId: ha.nodeId, timing: ha.lease, log, report }), config, log);
    case 'etcd':
      return createLeaseBackend('etcd', createEtcdCoordinator({ endpoints: ha.etcd.endpoints.split(','), prefix: ha.etcd.prefix, nodeId: ha.nodeId, timing: ha.lease, log }), config, log);
  }
}
