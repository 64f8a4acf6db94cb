/**
 * A simulated node's transport: the real transport core (src/transport/core.ts) with the UDP
 * socket replaced by an in-memory one on the simulated network and the process clocks replaced
 * by the simulated ones. Encoding, sequences, auth trailers, receiveDatagram, drop accounting
 * and the silence confirmation are the production code.
 */
import { fromCallback } from 'xstate';
import type { SendEvent } from '../../machines/role.machine.ts';
import { createTransportCore, type DatagramSocket, type TransportCore } from '../transport/core.ts';
import { AUTH_MODES, AuthKeyring, type AuthMode, type AuthPolicy } from '../transport/auth.ts';
import { Phase, type Entry } from './scheduler.ts';
import { Prng } from './prng.ts';
import { apiMisuse } from '../assert.ts';

/** Simulated wall time 0 (1 Jan 2027 UTC): auth stamps and timestamps look like real ones. */
export const SIM_WALL_EPOCH_MS = Date.UTC(2027, 0, 1);
/** The heartbeat port senders appear to use (the default ha.heartbeat.port). */
export const SIM_PORT = 9999;
/** Key id every simulated node signs with. */
export const SIM_KEY_ID = 1;
const SIM_KEY_BYTES = 32;

/** ha.auth for a simulated cluster; the key is derived from the simulation seed and shared by every node. */
export interface SimAuth {
  mode: AuthMode;
  /** Default 30 000, as ha.auth.freshness_window_seconds. */
  freshnessWindowMs?: number;
}

/** The shared policy for `auth`, its key drawn from its own generator so the main PRNG stream is unchanged. */
export function simAuthPolicy(auth: SimAuth, seed: number): AuthPolicy {
  if (!AUTH_MODES.includes(auth.mode)) throw apiMisuse(`scenario auth.mode must be one of ${AUTH_MODES.join(', ')}, got ${JSON.stringify(auth.mode)}`);
  const windowMs = auth.freshnessWindowMs ?? 30_000;
  if (!(Number.isFinite(windowMs) && windowMs >= 0)) throw apiMisuse(`scenario auth.freshnessWindowMs must be a non-negative number, got ${JSON.stringify(auth.freshnessWindowMs)}`);
  if (auth.mode === 'off') return { mode: 'off', keyring: null, keyId: 0, freshnessWindowMs: 0 };
  const prng = new Prng(seed ^ 0x6b657973);
  const secret = Uint8Array.from({ length: SIM_KEY_BYTES }, () => prng.nextUint32() & 0xff);
  return { mode: auth.mode, keyring: new AuthKeyring([[SIM_KEY_ID, secret]]), keyId: SIM_KEY_ID, freshnessWindowMs: windowMs };
}

/** What the simulation provides to one incarnation of a node. */
export interface SimTransportHost {
  /** Runs `fn` on this process's event loop at the current simulated time, in `phase`. */
  onLoop(phase: Phase, fn: () => void): Entry;
  /** Simulated time, ms since the start of the run. */
  nowMs(): number;
  /** Puts the datagram on the simulated network (every other node subject to faults, and our own loopback). */
  broadcast(data: Uint8Array): void;
  /** Sees every SEND before the transport does (simulation invariants). */
  observeSend?(event: SendEvent): void;
}

function simTransportActor(core: TransportCore, host: SimTransportHost, attach: (receiver: ((data: Uint8Array, address: string) => void) | null) => void) {
  const socket: DatagramSocket = {
    send: (data, done) => {
      host.broadcast(data);
      done(null);
    },
  };
  return fromCallback<SendEvent, { nodeId: string }>(({ sendBack, receive }) => {
    const onDuplicateId = (from: string) => sendBack({ type: 'IDENTITY.CONFLICT', from });
    attach((data, address) => {
      const event = core.handleDatagram(data, { address, port: SIM_PORT }, onDuplicateId);
      if (event !== null) sendBack(event);
    });
    // The socket is bound and joined as soon as the process's loop turns once.
    host.onLoop(Phase.Io, () => {
      core.stats.up = true;
      sendBack({ type: 'TRANSPORT.UP' });
    });
    receive((event) => {
      host.observeSend?.(event);
      core.handleSend(socket, event);
    });
    return () => {
      core.stats.up = false;
      attach(null);
    };
  });
}

export function createSimTransport(opts: { wireId: string; startSequence: number; auth: AuthPolicy; host: SimTransportHost }) {
  const { host } = opts;
  const core = createTransportCore({
    nodeId: opts.wireId,
    log: null,
    startSequence: opts.startSequence,
    auth: opts.auth,
    clock: {
      // Wall clocks are in sync (NTP) whatever the node's clockRate; integer milliseconds like Date.now().
      wallMs: () => SIM_WALL_EPOCH_MS + Math.floor(host.nowMs()),
      monotonicMs: () => host.nowMs(),
      afterPendingIo: (fn) => {
        const entry = host.onLoop(Phase.Immediate, fn);
        return () => {
          entry.cancelled = true;
        };
      },
    },
  });
  let receiver: ((data: Uint8Array, address: string) => void) | null = null;
  const transport = simTransportActor(core, host, (r) => {
    receiver = r;
  });
  return {
    core,
    transport,
    confirmSilence: core.confirmSilence,
    deliver: (data: Uint8Array, address: string) => receiver?.(data, address),
  };
}
