/**
 * `hastate farewell` in the simulator: the production code path (src/runtime/farewell.ts) on a
 * simulated node's in-memory disk. Under the node's state file's lock, refused while an
 * incarnation of it lives; the leaving declarations at its durable epoch, signed as it signs.
 */
import { leavingDatagrams, type FarewellAuth } from '../runtime/farewell.ts';
import type { EpochStore } from '../runtime/epoch-store.ts';
import type { MemoryFs } from './memory-fs.ts';
import { openSimEpochStore } from './sim-epoch.ts';

/** The pid the simulated farewell command holds the lock with: never an incarnation's (those count from 1). */
const FAREWELL_PID = 2 ** 30;

/** The datagrams to broadcast for the node, with the epoch they carry; null when refused or nothing to say. */
export function simFarewell(opts: { fs: MemoryFs; wireId: string; auth: FarewellAuth; wallMs: number; startSequence: number }): { epoch: number; data: Buffer[] } | null {
  let store: EpochStore;
  try {
    store = openSimEpochStore(opts.fs, opts.wireId, FAREWELL_PID);
  } catch {
    return null; // a live incarnation holds the lock
  }
  try {
    // Only a node that made an epoch durable was ever primary; the real command sends nothing otherwise.
    if (opts.fs.readFile(store.path) === null) return null;
    return { epoch: store.epoch, data: leavingDatagrams({ nodeId: opts.wireId, epoch: store.epoch, auth: opts.auth, wallMs: opts.wallMs, startSequence: opts.startSequence }) };
  } finally {
    store.close();
  }
}
