/**
 * A UDP socket joined to a multicast group, for the reference services. Several nodes on one
 * host share the port (SO_REUSEADDR), so each receives every datagram; TTL 1 keeps traffic on
 * the segment, loopback lets nodes on one host hear each other.
 */
import dgram from 'node:dgram';
import { HastateError } from '../errors.ts';

export interface GroupSocketOptions {
  group: string;
  port: number;
  interfaceAddress: string;
  onMessage: (data: Buffer, from: dgram.RemoteInfo) => void;
  onError: (error: Error) => void;
}

/** Resolves once bound and joined; rejects (and closes the socket) if either fails. */
export function openGroupSocket(opts: GroupSocketOptions): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    let ready = false;
    s.on('error', (error) => {
      if (ready) opts.onError(error);
      else {
        s.close();
        reject(error);
      }
    });
    s.on('message', opts.onMessage);
    s.once('listening', () => {
      try {
        s.addMembership(opts.group, opts.interfaceAddress);
        s.setMulticastInterface(opts.interfaceAddress);
        s.setMulticastTTL(1);
        s.setMulticastLoopback(true);
      } catch (error) {
        s.close();
        reject(new HastateError('HASTATE_TRANSPORT', `cannot join ${opts.group} on ${opts.interfaceAddress}: ${(error as Error).message}`, { cause: error }));
        return;
      }
      ready = true;
      resolve(s);
    });
    // Binding to the group address (Linux) filters out other groups that share the port.
    s.bind({ port: opts.port, address: process.platform === 'linux' ? opts.group : undefined, exclusive: false });
  });
}

export function closeQuietly(s: dgram.Socket | null): void {
  if (s === null) return;
  s.removeAllListeners('message');
  s.on('error', () => {});
  try {
    s.close();
  } catch {
    // already closed
  }
}
