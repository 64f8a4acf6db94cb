import dgram from 'node:dgram';
import { afterEach } from 'vitest';
import type { ServiceHarness } from '../../src/testing/service-harness.ts';

/** The list a test file pushes its service harnesses into: after each test all are stopped, then `after` runs (e.g. closing the API stand-in they used). */
export function harnessesStoppedAfterEach(after?: () => Promise<void>): ServiceHarness[] {
  const harnesses: ServiceHarness[] = [];
  afterEach(async () => {
    await Promise.all(harnesses.splice(0).map((h) => h.stop()));
    await after?.();
  });
  return harnesses;
}

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
