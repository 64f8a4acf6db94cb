/**
 * The farewell on its own (src/runtime/farewell.ts): what it sends, under which lock rules it
 * refuses, and that its datagrams pass the checks a receiver applies to them, including the
 * replay window of a receiver that heard the dead process a moment before.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LEAVING_PRIORITY } from '../../machines/identity.ts';
import { loadConfig } from '../../src/config/index.ts';
import { HastateError } from '../../src/errors.ts';
import { encodeEpochRecord } from '../../src/runtime/epoch-store.ts';
import { nodeFs } from '../../src/runtime/epoch-fs.ts';
import { farewellDatagrams, sendFarewell } from '../../src/runtime/farewell.ts';
import { AuthVerifier, frameKind, sealMessage, STAMP_PER_MS, StampClock } from '../../src/transport/auth.ts';
import { decodeMessage, encodeMessage, MESSAGE_SIZE } from '../../src/transport/codec.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'hastate-farewell-'));
const KEY_FILE = join(tmp(), 'auth.key');
writeFileSync(KEY_FILE, `1:${'farewell-unit-key-'.repeat(2)}\n`, { mode: 0o600 });

function configFor(stateDir: string, ha: Record<string, unknown> = {}) {
  return loadConfig({ object: { ha: { interface: '127.0.0.1', node_id: 'a', state_dir: stateDir, ...ha } } });
}

/** A socket that records what it was asked to send. */
function recorder() {
  const sent: Uint8Array[][] = [];
  return { sent, socket: { send: async (d: readonly Uint8Array[]) => void sent.push([...d]) } };
}

/** A pid that ran and has exited (and was reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function stateWith(epoch: number | null, lockPid: number | null): string {
  const dir = tmp();
  if (epoch !== null) writeFileSync(join(dir, 'epoch-a.json'), encodeEpochRecord('a', epoch));
  // As a node writes it: the pid and who runs as that pid (so a reused pid is not taken for the holder).
  if (lockPid !== null) writeFileSync(join(dir, 'epoch-a.lock'), `${lockPid} ${nodeFs().processIdentity(lockPid) ?? 'gone'}\n`);
  return dir;
}

describe('farewell datagrams', () => {
  it('are two leaving declarations (standby, the reserved priority) with the node id and epoch', () => {
    const ds = farewellDatagrams(configFor(tmp()), 7, 1_700_000_000_000);
    expect(ds).toHaveLength(2);
    const ms = ds.map((d) => decodeMessage(d));
    for (const m of ms) {
      expect(m.ok).toBe(true);
      if (!m.ok) continue;
      expect(m.message).toMatchObject({ type: 'declaration', role: 'standby', priority: LEAVING_PRIORITY, nodeId: 'a', epoch: 7 });
    }
    // Two sequences: the second copy is not taken for the first one looped back.
    expect(new Set(ms.map((m) => (m.ok ? m.message.sequence : -1))).size).toBe(2);
  });

  it('are signed when auth is on, and a receiver that heard the dead process a moment ago accepts them', () => {
    const config = configFor(tmp(), { auth: { mode: 'enforce', key_file: KEY_FILE } });
    const keyring = config.ha.auth.keys!;
    const receiver = new AuthVerifier({ mode: 'enforce', keyring, keyId: 1, freshnessWindowMs: 30_000 });
    const nowMs = 1_700_000_000_000;
    // The dead process's last heartbeat, 5 ms before it died; its stamp clock had run ahead by a few sends.
    const last = sealMessage(encodeMessage({ type: 'heartbeat', role: 'primary', priority: 0, sequence: 41, timestampMs: nowMs - 5, epoch: 3, nodeId: 'a' }), keyring, 1, (nowMs - 5) * STAMP_PER_MS + 3);
    expect(receiver.check(last, true, 'a', nowMs - 5)).toEqual({ ok: true, verified: true });
    for (const d of farewellDatagrams(config, 3, nowMs)) {
      expect(frameKind(d)).toEqual({ ok: true, tagged: true });
      expect(receiver.check(d, true, 'a', nowMs)).toEqual({ ok: true, verified: true });
    }
  });

  it('unsigned, are refused by an enforcing receiver', () => {
    const keyring = configFor(tmp(), { auth: { mode: 'enforce', key_file: KEY_FILE } }).ha.auth.keys!;
    const receiver = new AuthVerifier({ mode: 'enforce', keyring, keyId: 1, freshnessWindowMs: 30_000 });
    const [d] = farewellDatagrams(configFor(tmp()), 3, Date.now());
    expect(d!.byteLength).toBe(MESSAGE_SIZE);
    expect(receiver.check(d!, false, 'a', Date.now())).toMatchObject({ ok: false, reason: 'auth-missing' });
    // Sanity for the stamp clock the farewell uses: strictly increasing within one ms.
    const c = new StampClock();
    expect(c.next(5)).toBeLessThan(c.next(5));
  });
});

describe('sendFarewell', () => {
  it('sends at the durable epoch once the process holding the lock is gone, and releases the lock', async () => {
    const dir = stateWith(4, deadPid());
    const { sent, socket } = recorder();
    const out = await sendFarewell(configFor(dir), { socket });
    expect(out).toMatchObject({ sent: true, nodeId: 'a', epoch: 4, signed: false, copies: 2 });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.map((d) => decodeMessage(d)).every((m) => m.ok && m.message.epoch === 4)).toBe(true);
    expect(existsSync(join(dir, 'epoch-a.lock'))).toBe(false);
  });

  it('refuses, sending nothing, while the pid in the lock runs', async () => {
    const dir = stateWith(4, process.pid);
    const { sent, socket } = recorder();
    const error = await sendFarewell(configFor(dir), { socket }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HastateError);
    expect((error as HastateError).code).toBe('HASTATE_EPOCH_STORE_LOCKED');
    expect((error as Error).message).toContain(join(dir, 'epoch-a.lock'));
    expect(sent).toEqual([]);
    // The live holder's lock is left alone.
    expect(existsSync(join(dir, 'epoch-a.lock'))).toBe(true);
  });

  it('sends nothing, saying why, without a state directory, without an epoch file, or on a lease backend', async () => {
    const { sent, socket } = recorder();
    const missing = join(tmp(), 'nope');
    expect(await sendFarewell(configFor(missing), { socket })).toMatchObject({ sent: false, reason: expect.stringContaining(`state directory ${missing} does not exist`) });
    expect(existsSync(missing)).toBe(false);
    const empty = stateWith(null, null);
    expect(await sendFarewell(configFor(empty), { socket })).toMatchObject({ sent: false, reason: expect.stringContaining('never made an epoch durable') });
    for (const backend of ['redis', 'etcd']) {
      expect(await sendFarewell(configFor(stateWith(4, null), { backend }), { socket })).toMatchObject({ sent: false, reason: expect.stringContaining(`backend ${backend}`) });
    }
    expect(await sendFarewell(configFor(stateWith(4, null), { enabled: false }), { socket })).toMatchObject({ sent: false, reason: expect.stringContaining('ha.enabled is false') });
    expect(sent).toEqual([]);
  });

  it('fails on a corrupt epoch file, naming it, and sends nothing', async () => {
    const dir = stateWith(null, null);
    writeFileSync(join(dir, 'epoch-a.json'), '{"version":1,"nodeId":"a","epoch":9}\n');
    const { sent, socket } = recorder();
    await expect(sendFarewell(configFor(dir), { socket })).rejects.toThrow(`${join(dir, 'epoch-a.json')}: corrupt epoch state file`);
    expect(sent).toEqual([]);
  });
});
