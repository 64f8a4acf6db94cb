/**
 * The socket a farewell goes out on (src/runtime/farewell.ts): send-only, to the node's group
 * and heartbeat port from the node's interface, TTL 1 like the node's own datagrams. It is not
 * bound to the heartbeat port, so it hears nothing; opening it early (the supervisor does, at
 * start) leaves only the sends to do when the node dies.
 */
import dgram from 'node:dgram';
import { HastateError } from '../errors.ts';
import type { FarewellSocket } from '../runtime/farewell.ts';

/** Bound on handing the datagrams to the kernel; a send that takes longer has failed. */
export const FAREWELL_SEND_DEADLINE_MS = 1_000;

export interface OpenFarewellSocket extends FarewellSocket {
  close(): void;
}

const transportError = (what: string, error: unknown) =>
  new HastateError('HASTATE_TRANSPORT', `${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });

export async function openFarewellSocket(opts: { group: string; port: number; interfaceAddress: string }): Promise<OpenFarewellSocket> {
  const where = `${opts.group}:${opts.port} on interface ${opts.interfaceAddress}`;
  const socket = dgram.createSocket({ type: 'udp4' });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: 0, address: opts.interfaceAddress }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.setMulticastInterface(opts.interfaceAddress);
    socket.setMulticastTTL(1);
    socket.setMulticastLoopback(true);
  } catch (error) {
    socket.close();
    throw transportError(`cannot open a socket for the farewell to ${where}`, error);
  }
  // Later errors surface through send callbacks; an 'error' event must not crash the supervisor.
  socket.on('error', () => {});
  return {
    async send(datagrams) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HastateError('HASTATE_TRANSPORT', `farewell to ${where} not sent within ${FAREWELL_SEND_DEADLINE_MS} ms`)), FAREWELL_SEND_DEADLINE_MS);
      });
      const sends = datagrams.map(
        (d) => new Promise<void>((resolve, reject) => socket.send(d, opts.port, opts.group, (error) => (error ? reject(error) : resolve()))),
      );
      try {
        await Promise.race([Promise.all(sends), deadline]);
      } catch (error) {
        if (error instanceof HastateError) throw error;
        throw transportError(`farewell to ${where} failed`, error);
      } finally {
        clearTimeout(timer);
      }
    },
    close() {
      try {
        socket.close();
      } catch {
        // already closed
      }
    },
  };
}
