/**
 * How every multicast socket of hastate (the heartbeat transport and the reference services)
 * binds and joins its group, so that they cannot drift apart: TTL 1 keeps traffic on the
 * segment (a datagram from another network is not a peer), loopback lets nodes on one host
 * hear each other.
 */
import type dgram from 'node:dgram';

/** Bind options for a group's port; several sockets on one host may share it (with reuseAddr). */
export function groupBindOptions(group: string, port: number): dgram.BindOptions {
  // Binding to the group address (Linux) filters out other groups that share the port.
  return { port, address: process.platform === 'linux' ? group : undefined, exclusive: false };
}

/** Joins `group` on the interface with `interfaceAddress` and sends from it; throws what the socket throws. */
export function joinGroup(s: dgram.Socket, group: string, interfaceAddress: string): void {
  s.addMembership(group, interfaceAddress);
  s.setMulticastInterface(interfaceAddress);
  s.setMulticastTTL(1);
  s.setMulticastLoopback(true);
}
