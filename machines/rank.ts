/**
 * The election order, from the seed design: a higher `priority` wins; between equal
 * priorities the numerically lower IPv4 node id wins. That tie-break is the opposite of
 * VRRP's (where the higher address wins) and is kept on purpose for interop with the
 * seed's C++ nodes.
 *
 * Node ids that are not dotted-quad IPv4 addresses are allowed (hostnames, labels);
 * they rank after every IPv4 id of the same priority and compare by UTF-16 code units,
 * so the order stays total and deterministic whatever ids a cluster uses.
 *
 * Pure: it imports only identity.ts (also pure), so the machines that use it stay pasteable
 * into the Stately editor.
 */
import { ipv4ToNumber } from './identity.ts';

export interface Rankable {
  nodeId: string;
  priority: number;
}

/** Negative when `a` should be primary rather than `b`, positive for the reverse, 0 for the same node. */
export function compareRank(a: Rankable, b: Rankable): number {
  if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
  const ia = ipv4ToNumber(a.nodeId);
  const ib = ipv4ToNumber(b.nodeId);
  if (ia !== null && ib !== null) return ia === ib ? 0 : ia < ib ? -1 : 1;
  if (ia !== null) return -1;
  if (ib !== null) return 1;
  return a.nodeId === b.nodeId ? 0 : a.nodeId < b.nodeId ? -1 : 1;
}

/** True when `a` ranks strictly above `b` and so should be primary instead of it. */
export function outranks(a: Rankable, b: Rankable): boolean {
  return compareRank(a, b) < 0;
}

/** The node the rule picks from a non-empty list. */
export function best<T extends Rankable>(nodes: readonly T[]): T {
  if (nodes.length === 0) throw new RangeError('best() of an empty list');
  return nodes.reduce((winner, n) => (outranks(n, winner) ? n : winner));
}
