/** Node processes on a lease backend (redis or etcd), each with a fenced writer service. */
import { join } from 'node:path';
import { freePort, spawnNode, stopAll, type NodeProcess } from '../integration/cluster.ts';
import type { FenceStore } from './fence-store.ts';
import type { TestServer } from './servers.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures/fenced-node.ts');

/** Short timings keep the suite fast: TTL 1 s, step down after 0.6 s without renewal, 0.15 s period. */
export const LEASE = { ttlSeconds: 1, renewDeadlineSeconds: 0.6, retryPeriodSeconds: 0.15 };

export interface LeaseNodeSpec {
  nodeId: string;
  backend: 'redis' | 'etcd';
  /** redis URL or etcd endpoint. */
  url: string;
  /** Key prefix (redis) or election prefix (etcd): one per test. */
  prefix: string;
  fenceUrl: string;
  role?: 'auto' | 'standby';
  /** ha.state_dir; omitted = a fresh temporary directory. */
  stateDir?: string;
  /** notify.fault command; omitted = none. */
  notifyFault?: string;
}

export async function startLeaseNode(spec: LeaseNodeSpec): Promise<NodeProcess> {
  const backendKeys =
    spec.backend === 'redis'
      ? ['  redis:', `    url: ${spec.url}`, `    key_prefix: ${spec.prefix}`]
      : ['  etcd:', `    endpoints: ${spec.url}`, `    prefix: ${spec.prefix}`];
  const haLines = [
    'ha:',
    `  backend: ${spec.backend}`,
    `  node_id: ${spec.nodeId}`,
    '  interface: 127.0.0.1',
    `  role: ${spec.role ?? 'auto'}`,
    '  lease:',
    `    ttl_seconds: ${LEASE.ttlSeconds}`,
    `    renew_deadline_seconds: ${LEASE.renewDeadlineSeconds}`,
    `    retry_period_seconds: ${LEASE.retryPeriodSeconds}`,
    ...backendKeys,
    ...(spec.notifyFault === undefined ? [] : ['notify:', `  fault: ${JSON.stringify(spec.notifyFault)}`]),
  ];
  return spawnNode({ nodeId: spec.nodeId, group: '', port: 0, ...(spec.stateDir !== undefined ? { stateDir: spec.stateDir } : {}) }, await freePort(), haLines, (file) => [FIXTURE, file], { FENCE_URL: spec.fenceUrl });
}

/** The end of every lease test: the nodes killed (and the list emptied), then the fence store and the coordinator server stopped. */
export async function stopLeaseCluster(nodes: NodeProcess[], store: FenceStore, server: TestServer): Promise<void> {
  await stopAll(nodes.splice(0));
  await store.close();
  await server.destroy();
}
