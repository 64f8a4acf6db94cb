/**
 * `hastate farewell` and `hastate run --supervise` at the command line: usage and config errors
 * (exit 2, nothing sent or started), the refusal while the node's process lives (exit 5), and
 * the JSON line saying what was done.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeEpochRecord } from '../../src/runtime/epoch-store.ts';
import { nodeFs } from '../../src/runtime/epoch-fs.ts';

const ROOT = join(import.meta.dirname, '../..');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_')));

function hastate(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', env, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A config for node `a` whose state directory holds epoch 6 and, when given, a lock held by `lockPid`. */
function nodeConfig(lockPid: number | null, extra = ''): { file: string; stateDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hastate-farewell-cli-'));
  const stateDir = join(dir, 'state');
  spawnSync('mkdir', [stateDir]);
  writeFileSync(join(stateDir, 'epoch-a.json'), encodeEpochRecord('a', 6));
  if (lockPid !== null) writeFileSync(join(stateDir, 'epoch-a.lock'), `${lockPid} ${nodeFs().processIdentity(lockPid) ?? 'gone'}\n`);
  const file = join(dir, 'node.yaml');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  writeFileSync(file, `ha:\n  interface: 127.0.0.1\n  node_id: a\n  multicast_group: 239.255.201.${1 + Math.floor(Math.random() * 250)}\n  state_dir: ${JSON.stringify(stateDir)}\n  heartbeat:\n    port: ${port}\n${extra}`);
  return { file, stateDir };
}

describe('hastate farewell', () => {
  it('is in the usage text', () => {
    const r = hastate(['help']);
    expect(r.stdout).toMatch(/^ {2}farewell \[--config FILE/m);
    expect(r.stdout).toMatch(/--supervise/);
  });

  it('refuses unknown options and extra arguments with exit code 2', () => {
    const bad = hastate(['farewell', '--pid', '12']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^hastate: Unknown option '--pid'/);
    const extra = hastate(['farewell', 'now']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/^hastate: unexpected argument "now"/);
  });

  it('refuses a bad configuration with exit code 2, naming the file and key', () => {
    const { file } = nodeConfig(null, '  priority: many\n');
    const r = hastate(['farewell', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:`);
    expect(r.stderr).toContain('ha.priority');
    expect(r.stdout).toBe('');
  });

  it('refuses with exit code 5 while a live process holds the state file, naming it', () => {
    const { file, stateDir } = nodeConfig(process.pid);
    const r = hastate(['farewell', '--config', file]);
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`hastate: refusing to speak for node "a", its process may still be alive: ${join(stateDir, 'epoch-a.lock')}: held by running process ${process.pid}`);
  });

  it('prints what it sent once the holder is gone', () => {
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    const { file, stateDir } = nodeConfig(dead);
    const r = hastate(['farewell', '--config', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sent: true, nodeId: 'a', epoch: 6, signed: false, copies: 2, stateFile: join(stateDir, 'epoch-a.json') });
  });
});

describe('hastate run --supervise', () => {
  it('refuses a bad configuration with exit code 2 before starting anything', () => {
    const { file } = nodeConfig(null, '  priority: many\n');
    const r = hastate(['run', '--supervise', '--config', file, '--log', 'json']);
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain('supervisor-start');
  });
});
