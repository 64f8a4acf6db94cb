/**
 * The multicast transport without its socket and its clock: what turns the role machine's
 * SEND events into datagrams (encode, sequence, auth trailer) and datagrams into PEER.*
 * events (receiveDatagram: framing, decode, auth, own-id check, drop accounting), and how a
 * timeout waits for datagrams that already arrived (confirmSilence).
 *
 * The UDP transport (multicast.ts) and the simulator (src/testing/sim-transport.ts) both run
 * this; they differ only in the socket they hand it and the clock it reads, so a bug here
 * shows up in the property suite as well as on the wire.
 */
import { fromCallback } from 'xstate';
import type { Logger } from 'pino';
import type { RoleEvent, SendEvent } from '../../machines/role.machine.ts';
import { encodeMessage, MAX_EPOCH } from './codec.ts';
import { TransportStats } from './stats.ts';
import { AuthVerifier, sealMessage, StampClock, type AuthPolicy } from './auth.ts';
import { receiveDatagram, type ReceiveContext } from './receive.ts';

/** The one thing the core needs of a socket: hand a datagram to the group. */
export interface DatagramSocket {
  /** `done` is called exactly once, with the error if the datagram could not be sent. */
  send(data: Uint8Array, done: (error: Error | null) => void): void;
}

export interface TransportClock {
  /** Wall time: the informational timestamp, auth stamps and the freshness window. */
  wallMs(): number;
  /** Monotonic time for the peer table. */
  monotonicMs(): number;
  /**
   * Runs `fn` once the datagrams that have already arrived were read (Node: setImmediate,
   * which runs after the poll phase). Returns a function that cancels it.
   */
  afterPendingIo(fn: () => void): () => void;
}

export interface TransportCoreOptions {
  /** The node id on the wire. */
  nodeId: string;
  log: Logger | null;
  clock: TransportClock;
  /** First sequence minus one: the process's incarnation (see initialSequence in multicast.ts). */
  startSequence: number;
  /** ha.auth; omitted = mode off. */
  auth?: AuthPolicy;
}

/** Our own datagrams come back through multicast loopback; remember what we sent to tell them apart. */
export const RECENT_SEQUENCES = 256;
/** Rounds of reading a silence confirmation may take: a flood must not postpone a timeout forever. */
export const MAX_SILENCE_ROUNDS = 16;

const AUTH_OFF: AuthPolicy = { mode: 'off', keyring: null, keyId: 0, freshnessWindowMs: 0 };

export type TransportCore = ReturnType<typeof createTransportCore>;

export function createTransportCore(opts: TransportCoreOptions) {
  const { clock, log } = opts;
  const stats = new TransportStats();
  const verifier = new AuthVerifier(opts.auth ?? AUTH_OFF);
  const stamps = new StampClock();
  let sequence = opts.startSequence >>> 0;
  /** Datagrams sent so far, up to RECENT_SEQUENCES: the window of sequences we recognise as ours. */
  let recentCount = 0;
  let pendingSends = 0;
  const drained = new Set<() => void>();
  const receiveContext: ReceiveContext = {
    nodeId: opts.nodeId,
    stats,
    verifier,
    log,
    // Our sequences are consecutive, so the last RECENT_SEQUENCES sent are the ones at most that
    // far behind the current one (mod 2^32): a subtraction instead of a set that churns per send.
    sentRecently: (s: number) => ((sequence - s) >>> 0) < recentCount,
    wallMs: clock.wallMs,
    monotonicMs: clock.monotonicMs,
  };

  const settleSend = (error: Error | null) => {
    if (error) stats.sendFailed(`multicast send failed: ${error.message}`, log);
    else stats.sent++;
    pendingSends--;
    if (pendingSends > 0) return;
    const waiting = [...drained];
    drained.clear();
    for (const fn of waiting) fn();
  };

  /** A SEND from the machine, on the socket if there is one and the transport is up. */
  function handleSend(socket: DatagramSocket | null, event: SendEvent): void {
    if (event.type !== 'SEND' || socket === null || !stats.up) return;
    sequence = (sequence + 1) >>> 0;
    if (recentCount < RECENT_SEQUENCES) recentCount++;
    const { message } = event;
    const wallMs = clock.wallMs();
    const body = encodeMessage({
      type: message.type,
      role: message.role,
      priority: message.priority,
      nodeId: message.nodeId,
      epoch: message.epoch & MAX_EPOCH,
      sequence,
      timestampMs: wallMs, // informational wall time for other tools; never used for timing
    });
    const data = verifier.signs ? sealMessage(body, verifier.policy.keyring!, verifier.policy.keyId, stamps.next(wallMs)) : body;
    pendingSends++;
    socket.send(data, settleSend);
  }

  // The context with the caller's onDuplicateId, built once per callback rather than per datagram.
  let withDuplicate: { fn: (from: string) => void; ctx: ReceiveContext } | null = null;

  /** A datagram off the socket: the role event it means, or null (counted in stats). */
  function handleDatagram(data: Uint8Array, sender: { address: string; port: number }, onDuplicateId?: (from: string) => void): RoleEvent | null {
    if (onDuplicateId === undefined) return receiveDatagram(receiveContext, data, sender);
    if (withDuplicate?.fn !== onDuplicateId) withDuplicate = { fn: onDuplicateId, ctx: { ...receiveContext, onDuplicateId } };
    return receiveDatagram(withDuplicate.ctx, data, sender);
  }

  /**
   * Before a timeout is judged, let the event loop read what already arrived: a process that
   * was stalled has its timers and its datagrams due at once, and Node runs timers first.
   * Repeat while rounds still bring datagrams in (bounded, so a flood cannot postpone the
   * judgement forever).
   */
  const confirmSilence = fromCallback(({ sendBack }) => {
    let cancel: (() => void) | null = null;
    let rounds = 0;
    let seen = stats.received;
    const round = () => {
      cancel = clock.afterPendingIo(() => {
        if (stats.received !== seen && rounds < MAX_SILENCE_ROUNDS) {
          seen = stats.received;
          rounds++;
          round();
          return;
        }
        cancel = null;
        sendBack({ type: 'SILENCE.CONFIRMED' });
      });
    };
    round();
    return () => {
      cancel?.();
    };
  });

  /** Calls `fn` once no datagram is waiting for its send to complete (at once if none is); returns a canceller. */
  function whenDrained(fn: () => void): () => void {
    if (pendingSends === 0) {
      fn();
      return () => {};
    }
    drained.add(fn);
    return () => drained.delete(fn);
  }

  return { stats, verifier, handleSend, handleDatagram, confirmSilence, whenDrained,
    /** Datagrams handed to the socket whose send has not completed. */
    get pendingSends() {
      return pendingSends;
    },
  };
}
