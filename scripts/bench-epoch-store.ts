/**
 * Cost of one durable epoch write (temporary file, fsync, rename, fsync of the directory): what
 * a takeover waits for before it announces its new epoch. Measured with the real store on the
 * real disk; run it on the disk the state directory lives on.
 * Usage: npm run bench:epoch-store [-- --dir /var/lib/hastate-bench --writes 200]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nodeFs } from '../src/runtime/epoch-fs.ts';
import { EpochStore } from '../src/runtime/epoch-store.ts';
import { monotonicMs } from '../src/runtime/clock.ts';

const { values } = parseArgs({ options: { dir: { type: 'string' }, writes: { type: 'string', default: '200' } } });
const writes = Number(values.writes);
if (!Number.isInteger(writes) || writes < 1 || writes > 100_000) {
  process.stderr.write(`bench-epoch-store: --writes must be an integer 1..100000, got ${JSON.stringify(values.writes)}\n`);
  process.exit(2);
}
const base = values.dir ?? mkdtempSync(join(tmpdir(), 'hastate-bench-epoch-'));
const dir = mkdtempSync(join(base, 'run-'));
const store = EpochStore.open({ fs: nodeFs(), dir, nodeId: 'bench' });
const samples: number[] = [];
for (let epoch = 1; epoch <= writes; epoch++) {
  const t0 = monotonicMs();
  await store.record(epoch);
  samples.push(monotonicMs() - t0);
}
store.close();
rmSync(dir, { recursive: true, force: true });
samples.sort((a, b) => a - b);
const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!.toFixed(2);
process.stdout.write(`durable epoch write in ${dir}: ${writes} writes, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms, max ${samples.at(-1)!.toFixed(2)} ms\n`);
