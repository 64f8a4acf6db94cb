/**
 * The UDP multicast transport actor: the only place the role machine meets a socket.
 *
 * It binds the heartbeat port with SO_REUSEADDR (several nodes may share a host), joins the
 * group on the configured interface with TTL 1 and multicast loopback on, turns valid
 * datagrams into the machine's PEER.* events and the machine's SEND events into datagrams.
 * Bind/join failures become TRANSPORT.DOWN and are retried with capped backoff; nothing here
 * throws into the event loop.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { fromCallback } from 'xstate';
import type { Logger } from 'pino';
import type { SendEvent } from '../../machines/role.machine.ts';
import { restartDelayMs as backoffMs } from '../../machines/backoff.ts';
import type { AuthPolicy } from './auth.ts';
import { createTransportCore, type DatagramSocket, type TransportClock } from './core.ts';
import { groupBindOptions, joinGroup } from './group-socket.ts';
import { monotonicMs } from '../runtime/clock.ts';

export interface MulticastOptions {
  group: string;
  port: number;
  /** IPv4 address of the interface to join on and send from. */
  interfaceAddress: string;
  nodeId: string;
  log: Logger;
  /** First retry delay and cap for bind/join failures. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** ha.auth; omitted = mode off. */
  auth?: AuthPolicy;
}

/**
 * Each process starts its sequence at a random 32-bit value: its incarnation, in the one field
 * the wire format leaves to the sender. A datagram with our node id whose sequence we did not
 * send is then another live process, not our own loopback: two processes' recent windows
 * (RECENT_SEQUENCES each) overlap only if their starts fall within 256 of each other, about
 * 1 in 8 million. A C++ seed node only needs the sequence to increase, which it still does
 * (modulo 2^32). A restarted process is a new incarnation, and the old one is silent.
 */
export const initialSequence = (): number => randomInt(0, 2 ** 32);

/** The process's clocks; setImmediate runs after the poll phase, which reads pending datagrams. */
const nodeClock: TransportClock = {
  wallMs: Date.now,
  monotonicMs,
  afterPendingIo: (fn) => {
    const handle = setImmediate(fn);
    return () => clearImmediate(handle);
  },
};

export function createMulticastTransport(opts: MulticastOptions) {
  const log = opts.log.child({ component: 'transport' });
  const core = createTransportCore({
    nodeId: opts.nodeId,
    log,
    clock: nodeClock,
    startSequence: initialSequence(),
    ...(opts.auth ? { auth: opts.auth } : {}),
  });
  const { stats } = core;
  const retryBaseMs = opts.retryBaseMs ?? 200;
  const retryMaxMs = opts.retryMaxMs ?? 5_000;

  const transport = fromCallback<SendEvent, { nodeId: string }>(({ sendBack, receive }) => {
    const onDuplicateId = (from: string) => sendBack({ type: 'IDENTITY.CONFLICT', from });
    let socket: dgram.Socket | null = null;
    let sender: DatagramSocket | null = null;
    let retryTimer: NodeJS.Timeout | null = null;
    let attempts = 0;
    let stopped = false;

    const fail = (reason: string) => {
      if (stopped) return;
      stats.up = false;
      stats.lastError = reason;
      const delayMs = backoffMs(attempts + 1, retryBaseMs, retryMaxMs);
      attempts++;
      log.error({ group: opts.group, port: opts.port, interface: opts.interfaceAddress, retryInMs: delayMs }, `multicast transport down: ${reason}`);
      sendBack({ type: 'TRANSPORT.DOWN', reason });
      closeSocket();
      retryTimer = setTimeout(open, delayMs);
    };

    const closeSocket = () => {
      const s = socket;
      socket = null;
      sender = null;
      if (s === null) return;
      s.removeAllListeners();
      s.on('error', () => {});
      try {
        s.close();
      } catch {
        // already closed
      }
    };

    const onMessage = (data: Buffer, rinfo: dgram.RemoteInfo) => {
      const event = core.handleDatagram(data, rinfo, onDuplicateId);
      if (event !== null) sendBack(event);
    };

    function open() {
      retryTimer = null;
      if (stopped) return;
      const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      socket = s;
      sender = { send: (data, done) => s.send(data, opts.port, opts.group, (error) => done(error ?? null)) };
      s.on('error', (error) => fail(`socket error: ${error.message}`));
      s.on('message', onMessage);
      s.once('listening', () => {
        try {
          joinGroup(s, opts.group, opts.interfaceAddress);
        } catch (error) {
          fail(`cannot join ${opts.group} on interface ${opts.interfaceAddress}: ${(error as Error).message}`);
          return;
        }
        attempts = 0;
        stats.up = true;
        stats.lastError = null;
        log.info({ group: opts.group, port: opts.port, interface: opts.interfaceAddress }, 'multicast transport up');
        sendBack({ type: 'TRANSPORT.UP' });
      });
      try {
        s.bind(groupBindOptions(opts.group, opts.port));
      } catch (error) {
        fail(`cannot bind port ${opts.port}: ${(error as Error).message}`);
      }
    }

    receive((event) => core.handleSend(sender, event));

    open();
    return () => {
      stopped = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      stats.up = false;
      closeSocket();
    };
  });

  /** Resolves when every datagram handed to the socket has been sent, or after `timeoutMs`. */
  const flush = (timeoutMs: number): Promise<void> =>
    new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const cancel = core.whenDrained(() => {
        clearTimeout(timer);
        resolve();
      });
      if (core.pendingSends > 0) {
        timer = setTimeout(() => {
          cancel();
          resolve();
        }, timeoutMs);
      }
    });

  return { transport, confirmSilence: core.confirmSilence, stats, flush };
}
