/**
 * The in-memory repository every reference service reads and the collector fills: boards and
 * stacks from the external API, BMC health, and processed alerts. One per node; it is the
 * state a standby already holds when it takes over, which is why collection runs in every role.
 */
import { monotonicMs } from '../runtime/clock.ts';
import type { BmcStatus, BoardAlert, Health } from './protocol.ts';

/** Bounds, so that no input can grow memory without limit. */
export const MAX_BOARDS = 4_096;
export const MAX_STACKS = 4_096;
export const MAX_BMC_ENTRIES = 4_096;
export const MAX_ALERT_LOG = 1_000;

export interface Board {
  id: string;
  slot: number;
  status: Health;
}

export interface Stack {
  id: string;
  boards: string[];
  state: string;
}

export class Repository {
  boards: Board[] = [];
  stacks: Stack[] = [];
  /** Monotonic time of the last successful collection, or null before the first. */
  updatedAtMs: number | null = null;
  readonly bmc = new Map<string, BmcStatus & { atMs: number }>();
  readonly alerts: (BoardAlert & { epoch: number; atMs: number })[] = [];
  constructor(readonly staleAfterMs: number) {}

  replace(boards: Board[], stacks: Stack[]): void {
    this.boards = boards.slice(0, MAX_BOARDS);
    this.stacks = stacks.slice(0, MAX_STACKS);
    this.updatedAtMs = monotonicMs();
  }

  dataAgeMs(now = monotonicMs()): number | null {
    return this.updatedAtMs === null ? null : Math.round(now - this.updatedAtMs);
  }

  isStale(now = monotonicMs()): boolean {
    const age = this.dataAgeMs(now);
    return age === null || age > this.staleAfterMs;
  }

  noteBmc(s: BmcStatus): void {
    // Re-insert so that iteration order is least recently updated first: evict from the front.
    this.bmc.delete(s.boardId);
    if (this.bmc.size >= MAX_BMC_ENTRIES) this.bmc.delete(this.bmc.keys().next().value!);
    this.bmc.set(s.boardId, { ...s, atMs: monotonicMs() });
  }

  noteAlert(a: BoardAlert, epoch: number): void {
    this.alerts.push({ ...a, epoch, atMs: monotonicMs() });
    if (this.alerts.length > MAX_ALERT_LOG) this.alerts.shift();
  }

  /** Healthy = the API says ok and the BMC, if it reported, does not say otherwise. */
  healthyBoards(): number {
    return this.boards.filter((b) => b.status === 'ok' && (this.bmc.get(b.id)?.health ?? 'ok') === 'ok').length;
  }
}
