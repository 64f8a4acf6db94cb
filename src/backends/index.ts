/** Picks the coordinator for `ha.backend` redis or etcd. */
import type { Logger } from 'pino';
import type { HastateConfig } from '../config/index.ts';
import type { Coordinator, WorkerReport } from './coordinator.ts';
import { createEtcdCoordinator } from './etcd.ts';
import { createRedisCoordinator } from './redis.ts';
import { internalBug } from '../assert.ts';

export type { Coordinator, WorkerReport } from './coordinator.ts';

export function createCoordinator(config: HastateConfig, log: Logger, report: () => WorkerReport): Coordinator {
  const ha = config.ha;
  if (ha.backend === 'redis') {
    return createRedisCoordinator({ url: ha.redis.url, keyPrefix: ha.redis.keyPrefix, nodeId: ha.nodeId, timing: ha.lease, log, report });
  }
  if (ha.backend === 'etcd') {
    return createEtcdCoordinator({ endpoints: ha.etcd.endpoints.split(','), prefix: ha.etcd.prefix, nodeId: ha.nodeId, timing: ha.lease, log });
  }
  throw internalBug(`ha.backend ${ha.backend} has no coordinator`);
}
