/**
 * The node's side of the durable epoch: the `persistEpoch` actor the election machines wait
 * on before a new epoch is used, and the background writes of epochs seen from others. Every
 * write is timed and counted, and a failure becomes a fault: role unknown, notify.fault,
 * /healthz 503, hastate_epoch_store_failures_total.
 */
import { fromCallback, type EventObject } from 'xstate';
import type { Logger } from 'pino';
import type { PersistEpochLogic } from '../backends/backend.ts';
import { monotonicMs } from './clock.ts';
import type { EpochStore } from './epoch-store.ts';

/** What the durable epoch store did, for status and metrics. */
export interface EpochStoreStats {
  path: string;
  /** Highest epoch on disk. */
  durableEpoch: number;
  writes: number;
  failures: number;
  lastError: string | null;
  /** Duration of the last write (temporary file, fsync, rename, fsync of the directory). */
  lastWriteMs: number | null;
}

export class EpochRecorder {
  readonly stats: EpochStoreStats;
  readonly #store: EpochStore;
  readonly #log: Logger;
  /** Highest epoch handed to the store for a background (seen-epoch) write. */
  #seenRequested: number;

  constructor(store: EpochStore, log: Logger) {
    this.#store = store;
    this.#log = log;
    this.#seenRequested = store.epoch;
    this.stats = { path: store.path, durableEpoch: store.epoch, writes: 0, failures: 0, lastError: null, lastWriteMs: null };
  }

  /**
   * The machines' `persistEpoch`: they wait for its EPOCH.PERSISTED before a new epoch goes on
   * the wire or to services, so the ordering lives in the statecharts, not here. A failed write
   * answers FAULT.
   */
  persistEpochActor(): PersistEpochLogic {
    return fromCallback<EventObject, { epoch: number }>(({ sendBack, input }) => {
      let stopped = false;
      void this.#record(input.epoch).then((reason) => {
        if (stopped) return;
        if (reason !== null) return sendBack({ type: 'FAULT', reason });
        this.#log.debug({ epoch: input.epoch, persistMs: this.stats.lastWriteMs }, `epoch ${input.epoch} made durable`);
        sendBack({ type: 'EPOCH.PERSISTED', epoch: input.epoch });
      });
      return () => {
        stopped = true;
      };
    });
  }

  /**
   * Epochs seen from others are made durable in the background: a later takeover persists a
   * higher one before using it anyway, so nothing waits on this; but a failure is a fault all
   * the same (`onFault`), since the file no longer keeps up with what this node knows.
   */
  recordSeen(epoch: number, onFault: (reason: string) => void): void {
    if (epoch <= this.#seenRequested) return;
    this.#seenRequested = epoch;
    void this.#record(epoch).then((reason) => {
      if (reason !== null) onFault(reason);
    });
  }

  close(): void {
    this.#store.close();
  }

  /**
   * One durable write, timed and counted: resolves with null once `epoch` is on disk, or with
   * the fault reason after the failure was counted and logged. Never rejects.
   */
  #record(epoch: number): Promise<string | null> {
    const startedMs = monotonicMs();
    return Promise.resolve()
      .then(() => this.#store.record(epoch))
      .then(
        () => {
          this.stats.writes++;
          this.stats.lastWriteMs = monotonicMs() - startedMs;
          this.stats.durableEpoch = this.#store.epoch;
          return null;
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          this.stats.failures++;
          this.stats.lastError = message;
          this.#log.error({ err: error, epoch }, `epoch ${epoch} could not be made durable; not taking part: ${message}`);
          return `epoch store: ${message}`;
        },
      );
  }
}
