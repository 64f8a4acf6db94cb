/**
 * The durable epoch: the highest epoch this node has issued or seen, kept in a small file in
 * the state directory so that a node's epoch never goes back across restarts (a downstream
 * that fences on the epoch would otherwise refuse a restarted primary for good).
 *
 * The file is `epoch-<encoded node id>.json`:
 *   {"version":1,"nodeId":"a","epoch":3,"sha256":"<hex of sha256 over {"version":1,"nodeId":"a","epoch":3}>"}
 * It is replaced atomically and durably (temporary file, fsync, rename, fsync of the
 * directory), so after a crash at any point it holds either the old or the new record. A
 * `.lock` file next to it holding the owner's pid keeps a second process off the same file.
 *
 * Every failure is an EpochStoreError naming the path; nothing here falls back to epoch 0.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { HastateError, type HastateErrorCode } from '../errors.ts';
import { durableWriteSteps, runSteps, type EpochFs } from './epoch-fs.ts';
import { apiMisuse } from '../assert.ts';

export const EPOCH_FILE_VERSION = 1;
/** Largest epoch the store accepts: beyond it arithmetic on doubles stops being exact. */
const MAX_STORED_EPOCH = Number.MAX_SAFE_INTEGER;
/** Larger files are corrupt by definition; the record is well under 200 bytes. */
const MAX_FILE_CHARS = 4_096;

export class EpochStoreError extends HastateError {
  readonly path: string;
  constructor(code: HastateErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, `${path}: ${message}`, options);
    this.name = 'EpochStoreError';
    this.path = path;
  }
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Node ids are arbitrary UTF-8 (up to 31 bytes): letters, digits, `.`, `_` and `-` stay as they
 * are (so `10.0.0.1` stays readable), every other byte becomes `%XX`. Injective, never `..` or
 * a path separator, at most 93 characters.
 */
export function encodeNodeId(nodeId: string): string {
  let out = '';
  for (const byte of Buffer.from(nodeId, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) || (c === '.' && out !== '') ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export const epochFileName = (nodeId: string): string => `epoch-${encodeNodeId(nodeId)}.json`;

const body = (nodeId: string, epoch: number) => JSON.stringify({ version: EPOCH_FILE_VERSION, nodeId, epoch });
const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export function encodeEpochRecord(nodeId: string, epoch: number): string {
  const text = body(nodeId, epoch);
  return `${text.slice(0, -1)},"sha256":"${digest(text)}"}\n`;
}

/** The epoch in a record read from `path`; throws HASTATE_EPOCH_STORE_CORRUPT naming what is wrong. */
export function decodeEpochRecord(text: string, path: string, nodeId: string): number {
  const corrupt = (what: string) => new EpochStoreError('HASTATE_EPOCH_STORE_CORRUPT', path, `corrupt epoch state file: ${what}`);
  if (text.length > MAX_FILE_CHARS) throw corrupt(`${text.length} characters, more than ${MAX_FILE_CHARS}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw corrupt(`not JSON (${reasonOf(error)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw corrupt('not a JSON object');
  const r = parsed as Record<string, unknown>;
  if (r.version !== EPOCH_FILE_VERSION) throw corrupt(`version ${JSON.stringify(r.version)}, expected ${EPOCH_FILE_VERSION}`);
  if (typeof r.epoch !== 'number' || !Number.isSafeInteger(r.epoch) || r.epoch < 0) throw corrupt(`epoch ${JSON.stringify(r.epoch)} is not a non-negative integer`);
  if (typeof r.nodeId !== 'string') throw corrupt('nodeId is missing');
  if (typeof r.sha256 !== 'string' || r.sha256 !== digest(body(r.nodeId, r.epoch))) throw corrupt('sha256 does not match the content');
  if (r.nodeId !== nodeId) throw corrupt(`it belongs to node ${JSON.stringify(r.nodeId)}, not ${JSON.stringify(nodeId)}`);
  return r.epoch;
}

export interface EpochStoreOptions {
  fs: EpochFs;
  dir: string;
  nodeId: string;
  /** Written into the lock file; default this process's pid. */
  pid?: number;
}

export class EpochStore {
  readonly path: string;
  readonly lockPath: string;
  readonly #fs: EpochFs;
  readonly #dir: string;
  readonly #nodeId: string;
  readonly #pid: number;
  /** Highest epoch known to be on disk. */
  #durable = 0;
  /** The write in flight; writes never overlap, so the file only ever grows. */
  #inflight: Promise<void> | null = null;
  /**
   * The one write queued behind it, for the highest epoch asked for meanwhile: however many
   * epochs arrive during a slow fsync, at most one more write follows (bounded queue).
   */
  #next: { epoch: number; done: Promise<void> } | null = null;
  #locked = false;

  private constructor(opts: EpochStoreOptions) {
    this.#fs = opts.fs;
    this.#dir = opts.dir;
    this.#nodeId = opts.nodeId;
    this.#pid = opts.pid ?? process.pid;
    this.path = join(opts.dir, epochFileName(opts.nodeId));
    this.lockPath = this.path.replace(/\.json$/, '.lock');
  }

  /** Creates the directory, takes the lock and reads the epoch; throws EpochStoreError. */
  static open(opts: EpochStoreOptions): EpochStore {
    const store = new EpochStore(opts);
    try {
      opts.fs.mkdirp(opts.dir);
    } catch (error) {
      throw new EpochStoreError('HASTATE_EPOCH_STORE_IO', opts.dir, `cannot create the state directory: ${reasonOf(error)}`, { cause: error });
    }
    store.#lock();
    try {
      store.#durable = store.#read();
    } catch (error) {
      store.close();
      throw error;
    }
    return store;
  }

  /** The highest epoch on disk. */
  get epoch(): number {
    return this.#durable;
  }

  /**
   * Makes an epoch of at least `epoch` durable. Returns at once (undefined) when it already is
   * or when the fs is synchronous; otherwise a promise that settles when the write did.
   * Throws or rejects with HASTATE_EPOCH_STORE_IO naming the file.
   */
  record(epoch: number): void | Promise<void> {
    if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > MAX_STORED_EPOCH) throw apiMisuse(`epoch ${epoch} cannot be stored`);
    if (epoch <= this.#durable) return;
    // After close the lock may belong to the next process: never write then.
    if (!this.#locked) throw new EpochStoreError('HASTATE_EPOCH_STORE_IO', this.path, 'the epoch store is closed (the node stopped)');
    if (this.#inflight !== null) {
      if (this.#next !== null) {
        this.#next.epoch = Math.max(this.#next.epoch, epoch);
        return this.#next.done;
      }
      const next: { epoch: number; done: Promise<void> } = { epoch, done: Promise.resolve() };
      next.done = this.#inflight.then(
        () => {
          this.#next = null;
          return this.record(next.epoch);
        },
        (error: unknown) => {
          // The failure reaches every waiter; the next call starts a fresh write.
          this.#next = null;
          throw error;
        },
      );
      this.#next = next;
      return next.done;
    }
    const fail = (error: unknown) => new EpochStoreError('HASTATE_EPOCH_STORE_IO', this.path, `cannot write the epoch state file: ${reasonOf(error)}`, { cause: error });
    let pending: void | Promise<void>;
    try {
      pending = runSteps(this.#fs, durableWriteSteps(this.#dir, this.path, encodeEpochRecord(this.#nodeId, epoch)));
    } catch (error) {
      throw fail(error);
    }
    if (!(pending instanceof Promise)) {
      this.#durable = epoch;
      return;
    }
    const done = pending.then(
      () => {
        this.#durable = Math.max(this.#durable, epoch);
      },
      (error: unknown) => {
        throw fail(error);
      },
    );
    this.#inflight = done;
    const clear = () => {
      if (this.#inflight === done) this.#inflight = null;
    };
    done.then(clear, clear);
    return done;
  }

  /** Releases the lock (the file stays). Idempotent. */
  close(): void {
    if (!this.#locked) return;
    this.#locked = false;
    try {
      if (this.#fs.readFile(this.lockPath)?.trim().split(' ')[0] === String(this.#pid)) this.#fs.unlink(this.lockPath);
    } catch {
      // A lock we cannot remove is detected as stale by the next start (our pid is gone by then).
    }
  }

  #read(): number {
    let text: string | null;
    try {
      text = this.#fs.readFile(this.path);
    } catch (error) {
      throw new EpochStoreError('HASTATE_EPOCH_STORE_IO', this.path, `cannot read the epoch state file: ${reasonOf(error)}`, { cause: error });
    }
    return text === null ? 0 : decodeEpochRecord(text, this.path, this.#nodeId);
  }

  /**
   * Exclusive create of the lock file holding `<pid> <identity>`. A lock whose pid is not
   * running, or runs a different process than the one that wrote it (the identity changed: pid
   * reuse, a container restarted with the same pid), is stale: it is removed and taken, once.
   * Known limit: two processes finding the same stale lock at the same instant may both take it.
   */
  #lock(): void {
    const io = (error: unknown) => new EpochStoreError('HASTATE_EPOCH_STORE_IO', this.lockPath, `cannot take the lock: ${reasonOf(error)}`, { cause: error });
    for (let attempt = 0; attempt < 2; attempt++) {
      let created: boolean;
      let holder: string | null;
      try {
        created = this.#fs.createExclusive(this.lockPath, `${this.#pid} ${this.#fs.processIdentity(this.#pid) ?? 'unknown'}\n`);
        if (created) {
          this.#locked = true;
          return;
        }
        holder = this.#fs.readFile(this.lockPath);
      } catch (error) {
        throw io(error);
      }
      if (holder === null) continue; // released meanwhile
      const [pidText = '', identity] = holder.trim().split(' ');
      const pid = /^\d+$/.test(pidText) ? Number(pidText) : NaN;
      const now = Number.isSafeInteger(pid) && pid > 0 ? this.#fs.processIdentity(pid) : null;
      // Without a recorded identity (or without /proc), a running pid counts as the holder.
      if (now !== null && (identity === undefined || identity === 'unknown' || now === 'alive' || identity === now)) {
        throw new EpochStoreError(
          'HASTATE_EPOCH_STORE_LOCKED',
          this.lockPath,
          `held by running process ${pid}${pid === this.#pid ? ' (this process)' : ''}: another node with id ${JSON.stringify(this.#nodeId)} uses this state directory`,
        );
      }
      try {
        this.#fs.unlink(this.lockPath);
      } catch (error) {
        throw io(error);
      }
    }
    throw new EpochStoreError('HASTATE_EPOCH_STORE_LOCKED', this.lockPath, 'another process keeps re-creating the lock');
  }
}
