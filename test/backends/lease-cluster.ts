/** Node processes on a lease backend (redis or etcd), each with a fenced writer service. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, NodeProcess } from '../integration/cluster.ts';

const ROOT = join(import.meta.dirname, '../..');
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
}

export async function startLeaseNode(spec: LeaseNodeSpec): Promise<NodeProcess> {
  const statusPort = await freePort();
  const file = join(mkdtempSync(join(tmpdir(), 'hastate-lease-')), `${spec.nodeId}.yaml`);
  const backendKeys =
    spec.backend === 'redis'
      ? ['  redis:', `    url: ${spec.url}`, `    key_prefix: ${spec.prefix}`]
      : ['  etcd:', `    endpoints: ${spec.url}`, `    prefix: ${spec.prefix}`];
  writeFileSync(
    file,
    [
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
      'status:',
      '  host: 127.0.0.1',
      `  port: ${statusPort}`,
      'log:',
      '  level: debug',
      '',
    ].join('\n'),
  );
  const proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE, file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_'))), FENCE_URL: spec.fenceUrl },
  });
  return new NodeProcess({ nodeId: spec.nodeId, group: '', port: 0 }, statusPort, proc);
}
