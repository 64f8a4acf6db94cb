/**
 * The role trace of a simulated multicast cluster, and the invariants checked as it is written:
 * a node's epoch never goes back, and a node never leads at an epoch that an earlier process of
 * it had already made durable.
 */
import { roleOfSnapshot, type Role } from '../../machines/role.machine.ts';
import type { RoleActor, SimNode } from './sim-node.ts';

export interface TraceEntry {
  atMs: number;
  nodeId: string;
  from: Role;
  to: Role;
  epoch: number;
  reason: string;
}

/** Where role changes go: the run's trace and its violations, stamped with simulated time. */
export interface RoleRecord {
  readonly nowMs: number;
  readonly trace: TraceEntry[];
  readonly violations: string[];
}

/** Records every change of `node`'s role or epoch as its machine makes it, checking the invariants. */
export function followRoles(actor: RoleActor, node: SimNode, record: RoleRecord): void {
  const id = node.nodeId;
  actor.subscribe((snapshot) => {
    const role = roleOfSnapshot(snapshot);
    const epoch = snapshot.context.epoch;
    const nowMs = record.nowMs;
    if (role === 'primary' && (role !== node.role || epoch !== node.epoch)) {
      if (epoch <= node.durableAtStart) record.violations.push(`${nowMs} ms: ${id} leads at epoch ${epoch}, at or below ${node.durableAtStart} made durable by an earlier process`);
    }
    if (role === node.role && epoch === node.epoch) return;
    if (epoch < node.epoch) record.violations.push(`${nowMs} ms: ${id} epoch decreased ${node.epoch} -> ${epoch}`);
    record.trace.push({ atMs: nowMs, nodeId: id, from: node.role, to: role, epoch, reason: snapshot.context.reason });
    node.role = role;
    node.epoch = epoch;
  });
}

/** A crashed process has no role from that instant; the trace says why. */
export function recordCrash(node: SimNode, record: RoleRecord): void {
  record.trace.push({ atMs: record.nowMs, nodeId: node.nodeId, from: node.role, to: 'unknown', epoch: node.epoch, reason: 'crashed' });
  node.role = 'unknown';
}
