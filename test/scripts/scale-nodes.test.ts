/**
 * What bench:scale reads from /proc about a node: CPU ticks, RSS, and the kernel's drops at the
 * node's own UDP sockets (matched by socket inode in /proc/net/udp). Checked on this test's own
 * process, whose small receiving socket buffer is flooded.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { hostRcvbufErrors, procSample } from '../../scripts/scale-nodes.ts';

const bound = (sock: dgram.Socket) => new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));

describe.runIf(process.platform === 'linux')('scale-nodes /proc readings', () => {
  it('counts the kernel drops at this process\'s own socket, and only its sockets', async () => {
    const receiver = dgram.createSocket({ type: 'udp4', recvBufferSize: 4096 });
    const sender = dgram.createSocket('udp4');
    try {
      await Promise.all([bound(receiver), bound(sender)]);
      const before = procSample(process.pid);
      expect(before.udpSockets).toBeGreaterThanOrEqual(2);
      expect(before.rssKb).toBeGreaterThan(0);
      const port = receiver.address().port;
      const payload = Buffer.alloc(1000);
      // The sender's queue is flushed in one go when its socket turns writable; the receiver is
      // read only between such callbacks, and 4 KiB hold a few of these datagrams.
      await new Promise<void>((resolve, reject) => {
        for (let i = 0; i < 199; i++) sender.send(payload, port, '127.0.0.1');
        sender.send(payload, port, '127.0.0.1', (error) => (error ? reject(error) : resolve()));
      });
      const after = procSample(process.pid);
      expect(after.socketDrops - before.socketDrops).toBeGreaterThan(100);
      expect(after.cpuTicks).toBeGreaterThanOrEqual(before.cpuTicks);
      expect(hostRcvbufErrors()).toBeGreaterThanOrEqual(after.socketDrops - before.socketDrops);
    } finally {
      receiver.close();
      sender.close();
    }
  });

  it('fails with the pid when the process does not exist', () => {
    expect(() => procSample(2 ** 22 + 1)).toThrow(/\/proc\/4194305\/stat/);
  });
});
