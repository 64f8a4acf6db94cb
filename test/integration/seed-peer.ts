/**
 * A newcomer written from the seed design's `InitialElection` pseudo-code (seed 000, 5.3.2),
 * not from hastate: it joins the group, sends an election announcement (msgType 1, role 0),
 * waits the window, and counts itself a standby only if a primary heartbeat (msgType 2,
 * role 1) arrived meanwhile. Like the seed's receive loop it ignores role declarations.
 * The 52-byte struct is packed by hand here on purpose, independently of src/transport/codec.ts.
 */
import dgram from 'node:dgram';

export interface SeedPeerOptions {
  group: string;
  port: number;
  nodeId: string;
  /** The seed's 2 s, possibly scaled. */
  windowMs: number;
}

export interface SeedElection {
  /** What InitialElection decided: standby if a primary heartbeat arrived in the window. */
  decision: 'standby' | 'primary';
  heartbeatFrom: string | null;
  declarationsIgnored: number;
}

function announcement(nodeId: string, sequence: number): Buffer {
  const buf = Buffer.alloc(52);
  buf.writeUInt16BE(0xbea7, 0);
  buf.writeUInt8(1, 2); // election announcement
  buf.writeUInt8(0, 3); // role unknown
  buf.writeInt32BE(0, 4);
  buf.writeUInt32BE(sequence, 8);
  buf.writeBigUInt64BE(BigInt(Date.now()), 12);
  buf.write(nodeId, 20, 'ascii');
  return buf;
}

/** One start-up of a seed node: resolves with its decision after the window. */
export function seedInitialElection(opts: SeedPeerOptions): Promise<SeedElection> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    let heartbeatFrom: string | null = null;
    let declarationsIgnored = 0;
    socket.on('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.on('message', (msg) => {
      if (msg.length !== 52 || msg.readUInt16BE(0) !== 0xbea7) return;
      const id = msg.subarray(20, 52).toString('ascii').replace(/\0.*$/s, '');
      if (id === opts.nodeId) return;
      const type = msg.readUInt8(2);
      const role = msg.readUInt8(3);
      if (type === 2 && role === 1) heartbeatFrom ??= id;
      else if (type === 3) declarationsIgnored++;
    });
    socket.bind({ port: opts.port, address: opts.group }, () => {
      socket.addMembership(opts.group, '127.0.0.1');
      socket.setMulticastInterface('127.0.0.1');
      socket.setMulticastLoopback(true);
      socket.send(announcement(opts.nodeId, 1), opts.port, opts.group, (error) => {
        if (error) {
          socket.close();
          reject(error);
          return;
        }
        setTimeout(() => {
          socket.close();
          resolve({ decision: heartbeatFrom !== null ? 'standby' : 'primary', heartbeatFrom, declarationsIgnored });
        }, opts.windowMs);
      });
    });
  });
}
