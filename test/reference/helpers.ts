import dgram from 'node:dgram';

/** A random administratively scoped group and a block of three ports, so parallel test files do not meet. */
export function randomGroup() {
  const r = () => 1 + Math.floor(Math.random() * 250);
  return { group: `239.254.${r()}.${r()}`, port: 20_000 + Math.floor(Math.random() * 6_000) * 3 };
}

/** A plain UDP socket joined to `group` on loopback, collecting what arrives on `port`. */
export function groupReceiver(group: string, port: number): Promise<{ messages: Buffer[]; close(): void }> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const messages: Buffer[] = [];
    s.on('message', (m) => messages.push(m));
    s.once('error', reject);
    s.bind({ port, address: group }, () => {
      s.addMembership(group, '127.0.0.1');
      resolve({ messages, close: () => s.close() });
    });
  });
}

/** Sends one datagram to the group over loopback. */
export function sendTo(group: string, port: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      s.setMulticastInterface('127.0.0.1');
      s.setMulticastLoopback(true);
      s.send(data, port, group, (error) => {
        s.close();
        if (error) reject(error);
        else resolve();
      });
    });
  });
}
