import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_')));

function hastate(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...env, ...extraEnv }, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(text: string) {
  const path = join(mkdtempSync(join(tmpdir(), 'hastate-cli-')), 'node.yaml');
  writeFileSync(path, text);
  return path;
}

describe('hastate CLI', () => {
  it('ends quietly when its reader stops early (validate | true), with the exit code it would have had', () => {
    const path = file('ha:\n  interface: 127.0.0.1\n');
    // `true` exits without reading, so every write of the command meets a closed pipe (EPIPE).
    const r = spawnSync('bash', ['-c', `"${process.execPath}" --import tsx src/cli/main.ts validate "${path}" | true; echo "rc=\${PIPESTATUS[0]}"`], { cwd: ROOT, encoding: 'utf8', env, timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('rc=0');
  });

  it('validate prints the effective configuration of a good file', () => {
    const r = hastate(['validate', file('ha:\n  interface: 127.0.0.1\n  priority: 7\n  heartbeat:\n    interval_seconds: 0.2\n    timeout_seconds: 0.6\n')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid/);
    expect(r.stdout).toMatch(/priority: 7/);
    expect(r.stdout).toMatch(/interval_seconds: 0.2/);
    expect(r.stdout).toMatch(/node_id: 127.0.0.1/);
  });

  it('validate refuses a bad file with one line per problem naming file, line and key, and exit code 2', () => {
    const path = file('ha:\n  priority: high\n  multicast_group: 10.0.0.1\n  heartbeat:\n    interval_seconds: 3\n    timeout_seconds: 2\n  bogus: 1\n');
    const r = hastate(['validate', path]);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith(path));
    expect(lines.length).toBe(4);
    expect(r.stderr).toContain(`${path}:2:`);
    expect(r.stderr).toMatch(/ha\.priority: /);
    expect(r.stderr).toMatch(/ha\.multicast_group: /);
    expect(r.stderr).toMatch(/ha\.heartbeat\.timeout_seconds: must be greater than/);
    expect(r.stderr).toMatch(/ha\.bogus: unknown key/);
  });

  it('run with a bad config starts nothing and exits 2', () => {
    const r = hastate(['run', '--config', file('ha:\n  heartbeat:\n    port: 70000\n')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ha\.heartbeat\.port/);
    expect(r.stdout).toBe('');
  });

  it('HASTATE_* variables override keys and bad values name the variable', () => {
    const r = hastate(['validate', file('ha:\n  interface: 127.0.0.1\n')], { HASTATE_HA_PRIORITY: 'ten' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HASTATE_HA_PRIORITY/);
    const ok = hastate(['validate', file('ha:\n  interface: 127.0.0.1\n')], { HASTATE_HA_PRIORITY: '42' });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/priority: 42/);
  });

  it('unknown commands and flags are usage errors with exit code 2', { timeout: 60_000 }, () => {
    for (const args of [['frobnicate'], ['run', '--bogus'], ['validate'], ['run', '--log', 'xml'], ['status', '--timeout-ms', 'soon']]) {
      const r = hastate(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^hastate: /);
    }
  });

  it('status against a port where nothing listens exits 3 and names the URL', () => {
    const r = hastate(['status', '--url', 'http://127.0.0.1:1', '--timeout-ms', '500']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('http://127.0.0.1:1/status');
  });

  it('resign refuses a bad --token-file before sending anything (exit 2, naming the flag and the file) and never prints the token', () => {
    const missing = hastate(['resign', '--url', 'http://127.0.0.1:1', '--token-file', '/nonexistent/resign.token']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^hastate: --token-file: cannot read token file \/nonexistent\/resign\.token: ENOENT/);
    const short = hastate(['resign', '--url', 'http://127.0.0.1:1', '--token-file', file('tooshort\n')]);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/--token-file: token file .* holds a token of 8 characters, at least 16/);
    expect(short.stderr).not.toContain('tooshort');
  });

  it('--version prints the package version', () => {
    const r = hastate(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('run --inspect without the optional @statelyai/inspect package explains how to install it and exits 2', () => {
    const r = hastate(['run', '--inspect', '--config', file('ha:\n  interface: 127.0.0.1\n')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/npm install @statelyai\/inspect/);
  });
});
