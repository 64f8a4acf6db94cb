/**
 * The file operations the epoch store needs, behind one small interface so that the same
 * store code runs on the real disk (here), on the simulator's in-memory disk and on a disk
 * that fails or crashes at a chosen step (src/testing/memory-fs.ts).
 *
 * A durable replacement of a file is a list of steps (see `durableWriteSteps`); `apply` runs one.
 * Steps complete synchronously when the fs is synchronous (the simulator must not depend on
 * promises settling), and asynchronously on the real disk so that an fsync never blocks the
 * event loop that reads heartbeats.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { internalBug } from '../assert.ts';

export type WriteStep =
  /** Create or truncate `path` and write `data` (not yet durable). */
  | { op: 'write'; path: string; data: string }
  /** fsync the file written by the previous `write` of `path`, then close it. */
  | { op: 'sync'; path: string }
  | { op: 'rename'; from: string; to: string }
  /** fsync the directory, so that a rename in it survives a power loss. */
  | { op: 'syncDir'; path: string };

export interface EpochFs {
  apply(step: WriteStep): void | Promise<void>;
  /** The whole file as UTF-8, or null when it does not exist. Throws on any other error. */
  readFile(path: string): string | null;
  /** Creates the directory and its parents (mode 0700 for the ones it creates). */
  mkdirp(path: string): void;
  /** Creates `path` holding `data` only if it does not exist; false when it exists. */
  createExclusive(path: string, data: string): boolean;
  /** Removes `path`; a missing file is not an error. */
  unlink(path: string): void;
  /**
   * Who runs as `pid` now: a string that differs between two processes that had the same pid
   * (boot id and start time on Linux), or null when no process has it. A lock holding a pid
   * whose identity changed is stale: containers restart their node with the same small pid.
   */
  processIdentity(pid: number): string | null;
}

/** Temporary file, fsync, rename over the old file, fsync of the directory: in this order. */
export function durableWriteSteps(dir: string, path: string, data: string): WriteStep[] {
  const tmp = `${path}.tmp`;
  return [
    { op: 'write', path: tmp, data },
    { op: 'sync', path: tmp },
    { op: 'rename', from: tmp, to: path },
    { op: 'syncDir', path: dir },
  ];
}

/** Runs the steps in order; synchronously for as long as the fs completes them synchronously. */
export function runSteps(fs: EpochFs, steps: readonly WriteStep[], from = 0): void | Promise<void> {
  for (let i = from; i < steps.length; i++) {
    const pending = fs.apply(steps[i]!);
    if (pending instanceof Promise) return pending.then(() => runSteps(fs, steps, i + 1));
  }
}

const errnoOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | null)?.code;

/** The host's file system. */
export function nodeFs(): EpochFs {
  // A `write` leaves its handle open for the `sync` that follows; bounded by the steps in flight (one write at a time).
  const handles = new Map<string, FileHandle>();
  return {
    async apply(step) {
      switch (step.op) {
        case 'write': {
          await handles.get(step.path)?.close();
          const handle = await open(step.path, 'w', 0o600);
          handles.set(step.path, handle);
          try {
            await handle.writeFile(step.data, 'utf8');
          } catch (error) {
            handles.delete(step.path);
            await handle.close();
            throw error;
          }
          return;
        }
        case 'sync': {
          const handle = handles.get(step.path);
          if (handle === undefined) throw internalBug(`${step.path}: sync without a preceding write`);
          handles.delete(step.path);
          try {
            await handle.sync();
          } finally {
            await handle.close();
          }
          return;
        }
        case 'rename':
          return rename(step.from, step.to);
        case 'syncDir': {
          const handle = await open(step.path, 'r');
          try {
            await handle.sync();
          } finally {
            await handle.close();
          }
          return;
        }
      }
    },
    readFile(path) {
      try {
        return readFileSync(path, 'utf8');
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') return null;
        throw error;
      }
    },
    mkdirp(path) {
      mkdirSync(path, { recursive: true, mode: 0o700 });
    },
    createExclusive(path, data) {
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o600);
      } catch (error) {
        if (errnoOf(error) === 'EEXIST') return false;
        throw error;
      }
      try {
        writeSync(fd, data);
      } finally {
        closeSync(fd);
      }
      return true;
    },
    unlink(path) {
      try {
        unlinkSync(path);
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT') throw error;
      }
    },
    processIdentity(pid) {
      try {
        process.kill(pid, 0);
      } catch (error) {
        // EPERM: it exists but belongs to another user; only ESRCH says it is gone.
        if (errnoOf(error) === 'ESRCH') return null;
      }
      try {
        const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // Field 22 (start time in clock ticks since boot), counted after the `)` closing the command name.
        const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
        return `${boot}/${startTicks}`;
      } catch {
        // No /proc (not Linux), or the process is hidden from us (ProtectProc=): the pid alone
        // has to do. Refusing a lock that might be live is the safe side.
        return 'alive';
      }
    },
  };
}
