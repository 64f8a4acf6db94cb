/**
 * An in-memory EpochFs for the simulator and for crash tests. It models what a power loss may
 * keep of writes that were not made durable, as a Linux file system allows:
 *  - file data not fsynced may come back empty, cut short or whole;
 *  - a directory change (create, rename) not followed by an fsync of the directory may be
 *    undone or kept, name by name.
 * `crash(pick)` applies one such outcome, chosen by `pick` (seeded in tests), so the store's
 * code can be run against every ordering of a crash with its real steps.
 */
import { dirname } from 'node:path';
import type { EpochFs, WriteStep } from '../runtime/epoch-fs.ts';

interface Inode {
  data: string;
  /** The content an fsync made durable; null = none yet. */
  synced: string | null;
}

/** Thrown by a step the test chose to fail (like ENOSPC) or after which the "machine" crashed. */
export class InjectedFault extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

export class MemoryFs implements EpochFs {
  #visible = new Map<string, Inode>();
  #durable = new Map<string, Inode>();
  readonly dirs = new Set<string>();
  readonly livePids = new Set<number>();
  /** Steps applied so far (all writes); tests count and choose a step to fail from these. */
  applied = 0;
  /** Called before each step with its index: return an error code (e.g. 'ENOSPC') to fail it. */
  failStep: ((step: WriteStep, index: number) => string | null) | null = null;
  /** Reads fail with this code (EIO, EACCES) when set. */
  failReads: string | null = null;

  apply(step: WriteStep): void {
    const index = this.applied++;
    const code = this.failStep?.(step, index) ?? null;
    if (code !== null) throw new InjectedFault(code, `injected at step ${index} (${step.op})`);
    switch (step.op) {
      case 'write':
        this.#needDir(step.path);
        this.#visible.set(step.path, { data: step.data, synced: null });
        return;
      case 'sync': {
        const inode = this.#visible.get(step.path);
        if (inode === undefined) throw new InjectedFault('ENOENT', step.path);
        inode.synced = inode.data;
        return;
      }
      case 'rename': {
        const inode = this.#visible.get(step.from);
        if (inode === undefined) throw new InjectedFault('ENOENT', step.from);
        this.#visible.set(step.to, inode);
        this.#visible.delete(step.from);
        return;
      }
      case 'syncDir':
        for (const name of new Set([...this.#visible.keys(), ...this.#durable.keys()])) {
          if (dirname(name) !== step.path) continue;
          const inode = this.#visible.get(name);
          if (inode === undefined) this.#durable.delete(name);
          else this.#durable.set(name, inode);
        }
        return;
    }
  }

  readFile(path: string): string | null {
    if (this.failReads !== null) throw new InjectedFault(this.failReads, `read ${path}`);
    return this.#visible.get(path)?.data ?? null;
  }

  mkdirp(path: string): void {
    this.dirs.add(path);
  }

  createExclusive(path: string, data: string): boolean {
    this.#needDir(path);
    if (this.#visible.has(path)) return false;
    // Lock files need no durability (a crash kills their owner anyway): durable at once.
    const inode = { data, synced: data };
    this.#visible.set(path, inode);
    this.#durable.set(path, inode);
    return true;
  }

  unlink(path: string): void {
    this.#visible.delete(path);
    this.#durable.delete(path);
  }

  processIdentity(pid: number): string | null {
    return this.livePids.has(pid) ? `memory/${pid}` : null;
  }

  /** Overwrites a file durably, as an operator or a disk error might. */
  put(path: string, data: string): void {
    this.#needDir(path);
    const inode = { data, synced: data };
    this.#visible.set(path, inode);
    this.#durable.set(path, inode);
  }

  /**
   * Power loss: every name keeps its durable or its latest entry, every inode its synced data or
   * (when never synced, or changed since) an empty, cut-short or whole copy of its latest data,
   * as `pick(n)` (0 <= result < n) chooses.
   */
  crash(pick: (n: number) => number): void {
    const next = new Map<string, Inode>();
    const seen = new Map<Inode, Inode>();
    const survive = (inode: Inode): Inode => {
      let copy = seen.get(inode);
      if (copy !== undefined) return copy;
      let data = inode.synced ?? '';
      if (inode.synced !== inode.data) {
        const choice = pick(3);
        if (choice === 1) data = inode.data.slice(0, pick(inode.data.length + 1));
        if (choice === 2) data = inode.data;
      }
      copy = { data, synced: data };
      seen.set(inode, copy);
      return copy;
    };
    for (const name of [...new Set([...this.#visible.keys(), ...this.#durable.keys()])].sort()) {
      const durable = this.#durable.get(name);
      const latest = this.#visible.get(name);
      const kept = durable === latest || pick(2) === 0 ? durable : latest;
      if (kept !== undefined) next.set(name, survive(kept));
    }
    this.#visible = next;
    this.#durable = new Map(next);
    this.failStep = null;
  }

  #needDir(path: string): void {
    if (!this.dirs.has(dirname(path))) throw new InjectedFault('ENOENT', `no directory ${dirname(path)}`);
  }
}
