/**
 * The farewell: a leaving declaration sent on behalf of a node whose process died without
 * sending one (kill -9, the OOM killer, an uncaught crash), by something that outlives it
 * (`hastate farewell` as the systemd unit's ExecStopPost, or `hastate run --supervise`). The
 * standbys treat it as a planned hand-over: the best one takes over at once instead of after the
 * heartbeat timeout.
 *
 * Why it can never speak for a live process, nor override a newer incarnation:
 *
 * - The epoch store's lock (epoch-<id>.lock, holding the owner's pid and process identity) is
 *   held by every node process for its whole life. The farewell takes the same lock through the
 *   same code (EpochStore.open) before it reads anything: while the pid in the lock runs (a
 *   zombie, not yet reaped, still counts as running), or any other live process holds the lock,
 *   it refuses. So it only ever speaks after the node's process has exited and been reaped.
 * - It keeps the lock until its datagrams are on the wire, so no new incarnation can start
 *   (it would fail to take the lock) between the read of the epoch and the send. A restarted
 *   incarnation that wins the lock first makes the farewell refuse. With systemd, ExecStopPost
 *   runs to completion before Restart= starts the service again; the supervisor waits for the
 *   farewell before it restarts the child; the lock covers anyone who starts a node by hand.
 * - The epoch it carries is the durable one, read under that lock: the highest epoch the dead
 *   process issued or saw. A newer incarnation reads the same file at start and can only become
 *   primary at a claim above everything it knows (at least that epoch + 1), after an election
 *   window and its own durable write. So the farewell's epoch is strictly below any term a
 *   newer incarnation holds: the standbys' stale-claim rule (a primary heartbeat at or below
 *   the epoch a node left at is ignored) never hides the new incarnation's heartbeats.
 * - A farewell for a process that was not the primary changes nothing harmful: the role machine
 *   acts on a leaving declaration only from the primary it follows; from anyone else it notes
 *   the peer at the lowest priority (it no longer outranks a live standby) and the departure.
 *   So the farewell is sent whatever role the process had; no role needs persisting.
 */
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LEAVING_PRIORITY } from '../../machines/identity.ts';
import type { HastateConfig } from '../config/index.ts';
import { encodeMessage, MAX_EPOCH } from '../transport/codec.ts';
import { sealMessage, StampClock, type AuthPolicy } from '../transport/auth.ts';
import { EpochStore, epochFileName } from './epoch-store.ts';
import { nodeFs, type EpochFs } from './epoch-fs.ts';
import { hostStateDirEnv, resolveStateDir, type StateDirEnv } from './state-dir.ts';

/** Copies of the declaration, as a resign sends them: one lost datagram must not cost the timeout. */
export const FAREWELL_COPIES = 2;

export type FarewellOutcome =
  | { sent: true; nodeId: string; epoch: number; group: string; port: number; signed: boolean; copies: number; stateFile: string }
  | { sent: false; nodeId: string; reason: string };

/** Hands datagrams to the group; resolves when the socket has sent them all. */
export interface FarewellSocket {
  send(datagrams: readonly Uint8Array[]): Promise<void>;
}

export interface FarewellDeps {
  socket: FarewellSocket;
  fs?: EpochFs;
  stateDirEnv?: StateDirEnv;
  /** Wall time for the informational timestamp and the auth stamp. */
  wallMs?: () => number;
}

/** How the node signs: its ha.auth mode, keys and key id (the receivers' AuthPolicy minus freshness). */
export type FarewellAuth = Pick<AuthPolicy, 'mode' | 'keyring' | 'keyId'>;

/**
 * The leaving declarations for `nodeId` at `epoch`: unsigned, or signed as the node signs.
 * `startSequence` is a fresh random start and the stamps come from the wall clock: exactly how
 * a restarted process looks to the receivers (its stamps are above the dead process's last
 * ones, so their replay windows take them). Pure, for the simulator as much as the CLI.
 */
export function leavingDatagrams(opts: { nodeId: string; epoch: number; auth: FarewellAuth; wallMs: number; startSequence: number }): Buffer[] {
  let sequence = opts.startSequence >>> 0;
  const stamps = new StampClock();
  const out: Buffer[] = [];
  for (let i = 0; i < FAREWELL_COPIES; i++) {
    sequence = (sequence + 1) >>> 0;
    const body = encodeMessage({ type: 'declaration', role: 'standby', priority: LEAVING_PRIORITY, sequence, timestampMs: opts.wallMs, epoch: opts.epoch & MAX_EPOCH, nodeId: opts.nodeId });
    out.push(opts.auth.mode === 'off' ? body : sealMessage(body, opts.auth.keyring!, opts.auth.keyId, stamps.next(opts.wallMs)));
  }
  return out;
}

/**
 * The leaving declarations of the node `config` describes, from a random start sequence as
 * transport/multicast.ts's initialSequence draws it (not imported: that module loads xstate,
 * which a farewell run as ExecStopPost should not wait for).
 */
export function farewellDatagrams(config: HastateConfig, epoch: number, wallMs: number): Buffer[] {
  const { ha } = config;
  return leavingDatagrams({ nodeId: ha.nodeId, epoch, auth: { mode: ha.auth.mode, keyring: ha.auth.keys, keyId: ha.auth.keyId }, wallMs, startSequence: randomInt(0, 2 ** 32) });
}

/** Why a farewell has nothing to do for this configuration, or null when it applies. */
export function farewellNotApplicable(config: HastateConfig): string | null {
  const { ha } = config;
  if (!ha.enabled) return 'ha.enabled is false: the node is always primary on its own, there is no standby to hand over to';
  if (ha.backend !== 'multicast') {
    return `backend ${ha.backend}: the lease is released only by its holder (with its fencing token, which died with the process) or expires after ha.lease.ttl_seconds; a farewell cannot shorten that safely, so it does nothing`;
  }
  return null;
}

/**
 * Sends the farewell for the node `config` describes. Throws EpochStoreError
 * HASTATE_EPOCH_STORE_LOCKED while a live process holds the node's state file (refusal), and
 * the store's other errors for an unreadable or corrupt file; never sends then.
 */
export async function sendFarewell(config: HastateConfig, deps: FarewellDeps): Promise<FarewellOutcome> {
  const { ha } = config;
  const nodeId = ha.nodeId;
  const skip = farewellNotApplicable(config);
  if (skip !== null) return { sent: false, nodeId, reason: skip };
  const fs = deps.fs ?? nodeFs();
  const dir = resolveStateDir(ha.stateDir, deps.stateDirEnv ?? hostStateDirEnv());
  // Not created here: a missing directory means a wrong ha.state_dir or a node that never started.
  if (!existsSync(dir)) return { sent: false, nodeId, reason: `state directory ${dir} does not exist: the node never started with it, so it never held an epoch there (check ha.state_dir)` };
  const store = EpochStore.open({ fs, dir, nodeId });
  try {
    if (fs.readFile(join(dir, epochFileName(nodeId))) === null) {
      return { sent: false, nodeId, reason: `no epoch file ${store.path}: the node never made an epoch durable, so it was never primary; there is nothing to hand over` };
    }
    const epoch = store.epoch;
    // The lock is held until the datagrams are sent: no new incarnation starts in between.
    await deps.socket.send(farewellDatagrams(config, epoch, (deps.wallMs ?? Date.now)()));
    return { sent: true, nodeId, epoch, group: ha.multicastGroup, port: ha.heartbeat.port, signed: ha.auth.mode !== 'off', copies: FAREWELL_COPIES, stateFile: store.path };
  } finally {
    store.close();
  }
}
