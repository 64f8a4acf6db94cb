/**
 * Authenticated heartbeats benchmark (issue 6):
 * 1. Verify cost per datagram, as the median over rounds, for each path through the verifier:
 *    valid tag, bad tag (a full HMAC, then refused), stale (refused before the HMAC), replay,
 *    unknown key id; and the whole receive path (frame, decode, verify, count) for a bad tag.
 * 2. Forged flood on real sockets: a primary and a standby in enforce mode (real processes,
 *    loopback multicast, 0.2 s heartbeats, 1 s timeout) get wrong-key datagrams at increasing
 *    rates; reports what the standby verified and refused per second, the worst age of the
 *    primary's heartbeat it saw, and whether any role changed.
 * Usage: npm run bench:auth [-- rounds=21 perRound=20000 floodMs=3000 rates=10000,30000,60000,0]
 *        (rate 0 = as fast as this process can send)
 */
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeMessage, type HaMessage } from '../src/transport/codec.ts';
import { AuthKeyring, AuthVerifier, frameKind, sealMessage, StampClock, STAMP_PER_MS } from '../src/transport/auth.ts';
import { receiveDatagram } from '../src/transport/receive.ts';
import { TransportStats } from '../src/transport/stats.ts';
import { randomNetwork, startNode, stopAll, type NodeProcess } from '../test/integration/cluster.ts';

const arg = (name: string, def: string) => process.argv.find((a) => a.startsWith(`${name}=`))?.split('=')[1] ?? def;
const ROUNDS = Number(arg('rounds', '21'));
const PER_ROUND = Number(arg('perRound', '20000'));
const FLOOD_MS = Number(arg('floodMs', '3000'));
const RATES = arg('rates', '10000,30000,60000,0').split(',').map(Number);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const SECRET = Buffer.from('bench-shared-key-0123456789abcdef');
const keyring = new AuthKeyring([[1, SECRET]]);
const wrongKeys = new AuthKeyring([[1, Buffer.from('not-the-shared-key-at-all')]]);
const message = (sequence: number, nodeId = '127.0.0.2'): HaMessage => ({
  type: 'heartbeat', role: 'primary', priority: 2 ** 31 - 1, sequence, timestampMs: Date.now(), epoch: 1, nodeId,
});
const policy = { mode: 'enforce' as const, keyring, keyId: 1, freshnessWindowMs: 30_000 };

/** ns per datagram, median of ROUNDS rounds; `setup` builds a fresh verifier and inputs per round. */
function measure(name: string, setup: () => { run: (i: number) => boolean }): string {
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS + 2; r++) {
    const { run } = setup();
    let ok = 0;
    const t0 = performance.now();
    for (let i = 0; i < PER_ROUND; i++) if (run(i)) ok++;
    const ns = ((performance.now() - t0) / PER_ROUND) * 1e6;
    if (r >= 2) samples.push(ns); // the first rounds warm up the JIT
    if (ok !== 0 && ok !== PER_ROUND) throw new Error(`${name}: mixed outcomes (${ok}/${PER_ROUND})`);
  }
  const ns = median(samples);
  return `| ${name} | ${Math.round(ns)} ns | ${(ns / 1000).toFixed(2)} µs | ${Math.round(1e9 / ns).toLocaleString('en-US')} |`;
}

function microbenchmarks(): string[] {
  const now = Date.now();
  const valid = Array.from({ length: PER_ROUND }, (_, i) => sealMessage(encodeMessage(message(i)), keyring, 1, now * STAMP_PER_MS + i));
  const forged = Array.from({ length: PER_ROUND }, (_, i) => sealMessage(encodeMessage(message(i)), wrongKeys, 1, now * STAMP_PER_MS + i));
  const stale = sealMessage(encodeMessage(message(0)), wrongKeys, 1, (now - 3_600_000) * STAMP_PER_MS);
  const unknown = Buffer.from(forged[0]!);
  unknown[53] = 9;
  const check = (v: AuthVerifier, d: Uint8Array) => v.check(d, frameKind(d).ok, '127.0.0.2', Date.now()).ok;
  const rows = [
    measure('valid tag (HMAC, accepted, mark moves)', () => {
      const v = new AuthVerifier(policy);
      return { run: (i) => check(v, valid[i]!) };
    }),
    measure('bad tag (HMAC, refused)', () => {
      const v = new AuthVerifier(policy);
      return { run: (i) => check(v, forged[i]!) };
    }),
    measure('stale (refused before the HMAC)', () => {
      const v = new AuthVerifier(policy);
      return { run: () => check(v, stale) };
    }),
    measure('replay (refused before the HMAC)', () => {
      const v = new AuthVerifier(policy);
      check(v, valid[PER_ROUND - 1]!);
      return { run: (i) => check(v, valid[i]!) };
    }),
    measure('unknown key id (refused first)', () => {
      const v = new AuthVerifier(policy);
      return { run: () => check(v, unknown) };
    }),
    measure('whole receive path, bad tag (frame, decode, verify, count)', () => {
      const ctx = {
        nodeId: 'self', stats: new TransportStats(), verifier: new AuthVerifier(policy), log: null,
        sentRecently: () => false, wallMs: Date.now, monotonicMs: () => performance.now(),
      };
      const from = { address: '127.0.0.1', port: 1 };
      return { run: (i) => receiveDatagram(ctx, forged[i]!, from) !== null };
    }),
  ];
  return ['| path | median per datagram | | datagrams/s on one core |', '|---|---|---|---|', ...rows];
}

async function flood(nodes: NodeProcess[], net: { group: string; port: number }, ratePerS: number) {
  const [a, b] = nodes as [NodeProcess, NodeProcess];
  const before = await b.status();
  const beforeA = await a.status();
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  sock.setMulticastInterface('127.0.0.1');
  const stamps = new StampClock();
  const pool = Array.from({ length: 4096 }, (_, i) =>
    sealMessage(encodeMessage(message(i, i % 2 === 0 ? '127.0.0.2' : `10.0.${i >> 8}.${i & 255}`)), wrongKeys, 1, stamps.next(Date.now() + 1_000)),
  );
  let sent = 0;
  let worstAgeMs = 0;
  /** The standby stopped following a primary (it took over) at some point during the flood. */
  let lost = false;
  const start = performance.now();
  const watcher = (async () => {
    while (performance.now() - start < FLOOD_MS) {
      const s = await b.status().catch(() => null);
      if (s !== null && s.lastPrimaryHeartbeatAgeMs === null) lost = true;
      else if (s !== null) worstAgeMs = Math.max(worstAgeMs, s.lastPrimaryHeartbeatAgeMs!);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await new Promise<void>((resolve) => {
    const burst = () => {
      const elapsed = performance.now() - start;
      if (elapsed >= FLOOD_MS) return resolve();
      const due = ratePerS === 0 ? 200 : Math.min(Math.floor((elapsed / 1000) * ratePerS) - sent, 1_000);
      for (let i = 0; i < due - 1; i++) sock.send(pool[sent++ % pool.length]!, net.port, net.group);
      if (due > 0) sock.send(pool[sent++ % pool.length]!, net.port, net.group, () => (ratePerS === 0 ? setImmediate(burst) : setTimeout(burst, 1)));
      else setTimeout(burst, 1);
    };
    burst();
  });
  const elapsedMs = performance.now() - start;
  await watcher;
  sock.close();
  // Let the socket backlog drain into the counters before reading them.
  let after = await b.status();
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const next = await b.status();
    if (next.droppedPackets.total === after.droppedPackets.total) break;
    after = next;
  }
  const afterA = await a.status();
  // Forgeries claiming the primary's id turn from bad-tag into replay drops once its real stamps pass theirs.
  const refused = after.droppedPackets.total - before.droppedPackets.total;
  const changes = after.roleChanges - before.roleChanges + afterA.roleChanges - beforeA.roleChanges;
  const sentPerS = Math.round((sent / elapsedMs) * 1000);
  const refusedPerS = Math.round((refused / elapsedMs) * 1000);
  return `| ${ratePerS === 0 ? 'unpaced' : ratePerS.toLocaleString('en-US')} | ${sentPerS.toLocaleString('en-US')} | ${refusedPerS.toLocaleString('en-US')} (${Math.round((100 * refused) / sent)}%) | ${lost ? 'lost (the standby took over)' : `${worstAgeMs} ms`} | ${changes} | ${afterA.role}/${after.role} |`;
}

async function floodBenchmarks(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'hastate-bench-auth-'));
  const keyFile = join(dir, 'auth.key');
  writeFileSync(keyFile, `1:${SECRET.toString()}\n`, { mode: 0o600 });
  const net = randomNetwork();
  const auth = { mode: 'enforce' as const, keyFile };
  const common = { ...net, auth, intervalSeconds: 0.2, timeoutSeconds: 1, windowSeconds: 0.5 };
  const a = await startNode({ ...common, nodeId: '127.0.0.2', priority: 10 });
  const b = await startNode({ ...common, nodeId: '127.0.0.3' });
  const nodes = [a, b];
  try {
    await a.waitForRole('primary', 20_000);
    await b.waitForRole('standby', 20_000);
    await b.waitForStatus('primary heartbeats', (s) => s.primaryId === '127.0.0.2' && s.lastPrimaryHeartbeatAgeMs !== null, 20_000);
    const rows = ['| target rate /s | sent /s | standby verified and refused /s | worst primary heartbeat age (timeout 1000 ms) | role changes | roles after (primary/standby) |', '|---|---|---|---|---|---|'];
    for (const rate of RATES) rows.push(await flood(nodes, net, rate));
    return rows;
  } finally {
    await stopAll(nodes);
  }
}

console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} CPUs (${(await import('node:os')).cpus()[0]?.model ?? '?'})`);
console.log(`\nVerify cost (median of ${ROUNDS} rounds of ${PER_ROUND} datagrams):\n`);
console.log(microbenchmarks().join('\n'));
console.log(`\nForged flood, ${FLOOD_MS} ms per rate, at a primary/standby pair in enforce mode:\n`);
console.log((await floodBenchmarks()).join('\n'));
