/**
 * The durable epoch in both simulators: the real EpochStore on a node's in-memory disk (which
 * outlives its crashes), and the `persistEpoch` actor the machines wait on, answering on the
 * node's own event loop like the real one.
 */
import { fromCallback, type EventObject } from 'xstate';
import { EpochStore } from '../runtime/epoch-store.ts';
import type { MemoryFs } from './memory-fs.ts';
import type { Entry } from './scheduler.ts';

/** Where simulated nodes keep their epoch file, on their own in-memory disk. */
export const SIM_STATE_DIR = '/var/lib/hastate';

/** Opens a simulated process's store; `incarnation` is its pid, so a crash leaves a stale lock. */
export function openSimEpochStore(fs: MemoryFs, nodeId: string, incarnation: number): EpochStore {
  return EpochStore.open({ fs, dir: SIM_STATE_DIR, nodeId, pid: incarnation });
}

/**
 * `persistEpoch` for a simulated node. `onLoop` schedules work on that node's immediate phase
 * (and drops it if the process died). The in-memory disk completes a write synchronously, so
 * the epoch is durable before EPOCH.PERSISTED is sent.
 */
export function simPersistEpoch(store: EpochStore, onLoop: (fn: () => void) => Entry) {
  return fromCallback<EventObject, { epoch: number }>(({ sendBack, input }) => {
    const entry = onLoop(() => {
      void store.record(input.epoch);
      sendBack({ type: 'EPOCH.PERSISTED', epoch: input.epoch });
    });
    return () => {
      entry.cancelled = true;
    };
  });
}
