/** deploy/hastate.yaml is a valid configuration; deploy/nftables/hastate.nft is accepted by nft. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';

const ROOT = join(import.meta.dirname, '../..');

it('the sample configuration loads without a problem and says what the docs say', () => {
  // No HASTATE_* from the caller's environment; the file names its interface itself.
  const config = loadConfig({ file: join(ROOT, 'deploy/hastate.yaml'), env: {} });
  expect(config.status.host).toBe('127.0.0.1');
  expect(config.ha.heartbeat.timeoutMs / config.ha.heartbeat.intervalMs).toBeGreaterThanOrEqual(3.5);
});

const nft = spawnSync('nft', ['--version'], { encoding: 'utf8' });
const canCheck = nft.status === 0 && process.getuid?.() === 0;
if (!canCheck) console.warn('nft is not installed or this is not root: skipping `nft -c` of deploy/nftables/hastate.nft');

it.skipIf(!canCheck)('the nftables rules pass `nft --check`', () => {
  const result = spawnSync('nft', ['--check', '--file', join(ROOT, 'deploy/nftables/hastate.nft')], { encoding: 'utf8', timeout: 30_000 });
  expect({ status: result.status, stderr: result.stderr.trim() }).toEqual({ status: 0, stderr: '' });
});
