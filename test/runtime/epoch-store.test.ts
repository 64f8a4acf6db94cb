import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { durableWriteSteps, nodeFs, runSteps, type WriteStep } from '../../src/runtime/epoch-fs.ts';
import { encodeEpochRecord, encodeNodeId, epochFileName, EpochStore, EpochStoreError } from '../../src/runtime/epoch-store.ts';
import { resolveStateDir } from '../../src/runtime/state-dir.ts';
import { MemoryFs } from '../../src/testing/memory-fs.ts';
import { Prng } from '../../src/testing/prng.ts';

const DIR = '/state';
const ID = '10.0.0.1';
const PID = 4242;

function memory(epoch?: number): MemoryFs {
  const fs = new MemoryFs();
  fs.mkdirp(DIR);
  if (epoch !== undefined) fs.put(join(DIR, epochFileName(ID)), encodeEpochRecord(ID, epoch));
  return fs;
}

const open = (fs: MemoryFs, pid = PID) => EpochStore.open({ fs, dir: DIR, nodeId: ID, pid });

function storeError(fn: () => unknown): EpochStoreError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EpochStoreError);
    return error as EpochStoreError;
  }
  throw new Error('expected an EpochStoreError');
}

describe('epoch store: format and names', () => {
  it('round-trips the epoch and starts at 0 without a file', () => {
    const fs = memory();
    const store = open(fs);
    expect(store.epoch).toBe(0);
    store.record(7);
    store.close();
    expect(open(fs).epoch).toBe(7);
  });

  it('never writes a lower epoch than the one on disk', () => {
    const fs = memory(9);
    const store = open(fs);
    const before = fs.applied;
    store.record(4);
    expect(fs.applied).toBe(before);
    expect(store.epoch).toBe(9);
  });

  it('encodes node ids into distinct, safe file names', () => {
    const ids = ['10.0.0.1', 'a/b', '../x', '.hidden', 'ä', 'a%41', 'aA', 'a b', '%', 'nœud-1'];
    const names = ids.map(epochFileName);
    expect(new Set(names).size).toBe(ids.length);
    for (const name of names) {
      expect(name).toMatch(/^epoch-[A-Za-z0-9_%-][A-Za-z0-9._%-]*\.json$/);
      expect(name).not.toContain('..');
    }
    expect(encodeNodeId('10.0.0.1')).toBe('10.0.0.1');
    expect(encodeNodeId('a/b')).toBe('a%2Fb');
  });

  it.each([
    ['not JSON', 'garbage', /not JSON/],
    ['empty', '', /not JSON/],
    ['a changed epoch', encodeEpochRecord(ID, 3).replace('"epoch":3', '"epoch":30'), /sha256 does not match/],
    ['another node', encodeEpochRecord('10.0.0.2', 3), /belongs to node "10.0.0.2"/],
    ['another version', JSON.stringify({ version: 2, nodeId: ID, epoch: 3, sha256: 'x' }), /version 2/],
    ['a negative epoch', JSON.stringify({ version: 1, nodeId: ID, epoch: -1, sha256: 'x' }), /not a non-negative integer/],
  ])('refuses a file holding %s, naming the path', (_what, text, message) => {
    const fs = memory();
    fs.put(join(DIR, epochFileName(ID)), text);
    const error = storeError(() => open(fs));
    expect(error.code).toBe('HASTATE_EPOCH_STORE_CORRUPT');
    expect(error.message).toContain(join(DIR, epochFileName(ID)));
    expect(error.message).toMatch(message);
    // The lock is released, so a fixed file can be read by the next start.
    fs.put(join(DIR, epochFileName(ID)), encodeEpochRecord(ID, 3));
    expect(open(fs).epoch).toBe(3);
  });

  it('an unreadable file is an I/O error naming the path', () => {
    const fs = memory(3);
    fs.failReads = 'EIO';
    const error = storeError(() => open(fs));
    expect(error.code).toBe('HASTATE_EPOCH_STORE_IO');
  });
});

describe('epoch store: durable writes under faults', () => {
  const STEPS = durableWriteSteps(DIR, join(DIR, epochFileName(ID)), 'x').length;

  it('a write that fails at any step (full disk) reports the path and keeps the old epoch', () => {
    for (let failAt = 0; failAt < STEPS; failAt++) {
      const fs = memory(5);
      const store = open(fs);
      const base = fs.applied;
      fs.failStep = (_step, index) => (index === base + failAt ? 'ENOSPC' : null);
      const error = storeError(() => store.record(6));
      expect(error.code).toBe('HASTATE_EPOCH_STORE_IO');
      expect(error.message).toContain(join(DIR, epochFileName(ID)));
      expect(error.message).toContain('ENOSPC');
      expect(store.epoch).toBe(5);
      store.close();
      expect(open(fs).epoch).toBeGreaterThanOrEqual(5);
    }
  });

  /** Crash after `doneSteps` of the write of 6 over 5, with every outcome `seed` picks. */
  function crashOutcome(steps: readonly WriteStep[] | null, doneSteps: number, seed: number): number | string {
    const fs = memory(5);
    const store = open(fs);
    const base = fs.applied;
    fs.failStep = (_step, index) => (index >= base + doneSteps ? 'CRASH' : null);
    try {
      if (steps === null) store.record(6);
      else runSteps(fs, steps);
    } catch {
      // the machine died here
    }
    const prng = new Prng(seed);
    fs.crash((n) => prng.int(0, n - 1));
    try {
      return open(fs, PID + 1).epoch;
    } catch (error) {
      return (error as Error).message;
    }
  }

  it('a crash after any step leaves the old or the new epoch, never a lower one or an unreadable file', () => {
    for (let done = 0; done <= STEPS; done++) {
      for (let seed = 1; seed <= 200; seed++) {
        const outcome = crashOutcome(null, done, seed);
        expect([5, 6], `crash after ${done} steps, seed ${seed}: ${outcome}`).toContain(outcome);
        // Once the rename is durable (all steps done) only the new epoch may come back.
        if (done === STEPS) expect(outcome).toBe(6);
      }
    }
  });

  it('the same harness catches a write that renames before the fsync (negative control)', () => {
    const path = join(DIR, epochFileName(ID));
    const [write, sync, rename, syncDir] = durableWriteSteps(DIR, path, encodeEpochRecord(ID, 6));
    const unsafe = [write!, rename!, syncDir!, sync!];
    const outcomes = new Set<number | string>();
    for (let done = 0; done <= unsafe.length; done++) for (let seed = 1; seed <= 200; seed++) outcomes.add(crashOutcome(unsafe, done, seed));
    expect([...outcomes].some((o) => typeof o === 'string')).toBe(true);
  });
});

describe('epoch store: lock', () => {
  it('refuses a second live owner and takes over a stale lock after its owner died', () => {
    const fs = memory(2);
    fs.livePids.add(PID);
    const first = open(fs, PID);
    const error = storeError(() => open(fs, PID + 1));
    expect(error.code).toBe('HASTATE_EPOCH_STORE_LOCKED');
    expect(error.message).toContain(`${join(DIR, epochFileName(ID)).replace(/\.json$/, '.lock')}`);
    expect(error.message).toContain(String(PID));
    // kill -9: the lock file stays, its pid is gone.
    fs.livePids.delete(PID);
    void first;
    expect(open(fs, PID + 1).epoch).toBe(2);
  });

  it('a lock whose pid now runs another process (pid reuse, a restarted container) is stale', () => {
    const fs = memory(2);
    fs.livePids.add(PID);
    fs.put(join(DIR, epochFileName(ID)).replace(/\.json$/, '.lock'), `${PID} some-earlier-process\n`);
    expect(open(fs, PID).epoch).toBe(2);
  });

  it('a lock file with garbage in it is stale', () => {
    const fs = memory(2);
    fs.put(join(DIR, epochFileName(ID)).replace(/\.json$/, '.lock'), 'not a pid');
    expect(open(fs).epoch).toBe(2);
  });

  it('on the real disk: the same process cannot open one node\'s file twice; close releases it', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hastate-epoch-')), 'nested', 'state');
    const a = EpochStore.open({ fs: nodeFs(), dir, nodeId: ID });
    expect(storeError(() => EpochStore.open({ fs: nodeFs(), dir, nodeId: ID })).code).toBe('HASTATE_EPOCH_STORE_LOCKED');
    await a.record(11);
    expect(JSON.parse(readFileSync(a.path, 'utf8'))).toMatchObject({ version: 1, nodeId: ID, epoch: 11 });
    a.close();
    const b = EpochStore.open({ fs: nodeFs(), dir, nodeId: ID });
    expect(b.epoch).toBe(11);
    b.close();
  });

  it('on the real disk: a state directory that cannot be created is an I/O error naming it', () => {
    const base = mkdtempSync(join(tmpdir(), 'hastate-epoch-'));
    writeFileSync(join(base, 'file'), '');
    const error = storeError(() => EpochStore.open({ fs: nodeFs(), dir: join(base, 'file', 'state'), nodeId: ID }));
    expect(error.code).toBe('HASTATE_EPOCH_STORE_IO');
    expect(error.message).toContain(join(base, 'file', 'state'));
  });

  it('on the real disk: a file that cannot be read (a directory in its place) is an I/O error naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hastate-epoch-'));
    mkdirSync(join(dir, epochFileName(ID)));
    const error = storeError(() => EpochStore.open({ fs: nodeFs(), dir, nodeId: ID }));
    expect(error.code).toBe('HASTATE_EPOCH_STORE_IO');
    expect(error.message).toContain(join(dir, epochFileName(ID)));
  });
});

describe('state directory default', () => {
  const host = (env: Record<string, string>, uid: number | null = 1000) => ({ env, uid, home: '/home/u' });
  it('prefers ha.state_dir, then systemd, then root\'s /var/lib, then XDG, then ~/.local/state', () => {
    expect(resolveStateDir('/etc/x', host({ STATE_DIRECTORY: '/var/lib/hastate' }))).toBe('/etc/x');
    expect(resolveStateDir('', host({ STATE_DIRECTORY: '/var/lib/hastate:/var/lib/other' }, 0))).toBe('/var/lib/hastate');
    expect(resolveStateDir('', host({ XDG_STATE_HOME: '/x' }, 0))).toBe('/var/lib/hastate');
    expect(resolveStateDir('', host({ XDG_STATE_HOME: '/x' }))).toBe('/x/hastate');
    expect(resolveStateDir('', host({ XDG_STATE_HOME: 'relative' }))).toBe('/home/u/.local/state/hastate');
    expect(resolveStateDir('', host({}))).toBe('/home/u/.local/state/hastate');
  });
});

describe('epoch store: writes in flight', () => {
  it('epochs asked for during a slow write are coalesced into one more write of the highest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hastate-epoch-'));
    const real = nodeFs();
    const started: string[] = [];
    let release: (() => void) | null = null;
    const gate = new Promise<void>((r) => (release = r));
    const slow = {
      ...real,
      async apply(step: WriteStep) {
        if (step.op === 'write') started.push(JSON.parse(step.data).epoch);
        if (step.op === 'sync' && started.length === 1) await gate;
        return real.apply(step);
      },
    };
    const store = EpochStore.open({ fs: slow, dir, nodeId: ID });
    const first = store.record(1);
    const waits = [2, 5, 3, 4].map((e) => store.record(e));
    release!();
    await Promise.all([first, ...waits]);
    expect(started).toEqual([1, 5]);
    expect(store.epoch).toBe(5);
    store.close();
  });
});
