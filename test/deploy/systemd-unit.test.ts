/**
 * deploy/systemd/hastate.service: the directives the deployment relies on, asserted on every
 * machine by parsing the unit, and `systemd-analyze verify` where systemd is installed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HARD_STOP_BOUND_MS } from '../../src/cli/run-command.ts';
import { directive, parseUnitFile, timeSpanMs, UnitFileError } from './unit-file.ts';

const ROOT = join(import.meta.dirname, '../..');
const UNIT_PATH = join(ROOT, 'deploy/systemd/hastate.service');
const text = readFileSync(UNIT_PATH, 'utf8');
const unit = parseUnitFile(text, 'deploy/systemd/hastate.service');
const service = (key: string) => directive(unit, 'Service', key);
const only = (key: string) => {
  const values = service(key);
  expect(values, `[Service] ${key}= must be set once`).toHaveLength(1);
  return values![0]!;
};

describe('the systemd unit', () => {
  it('runs the globally installed hastate with the config in /etc/hastate', () => {
    expect(only('ExecStart').split(/\s+/).slice(0, 2)).toEqual(['/usr/local/bin/hastate', 'run']);
    expect(service('Environment')).toContain('HASTATE_CONFIG=/etc/hastate/hastate.yaml');
  });

  it('stops with SIGTERM and waits longer than hastate does before a SIGKILL', () => {
    expect(only('KillSignal')).toBe('SIGTERM');
    // The CLI exits by itself within HARD_STOP_BOUND_MS of the signal, hooks included (run-command.ts).
    expect(timeSpanMs(only('TimeoutStopSec'))).toBeGreaterThan(HARD_STOP_BOUND_MS);
    expect(only('Restart')).toBe('on-failure');
  });

  it('sends the farewell of a node process that died, with the same config, whatever the farewell\'s result', () => {
    expect(only('ExecStopPost').split(/\s+/)).toEqual(['-/usr/local/bin/hastate', 'farewell']);
  });

  it('runs as a dedicated user with its state directory', () => {
    const user = service('User')?.[0];
    const dynamic = service('DynamicUser')?.[0] === 'yes';
    expect(dynamic || (user !== undefined && user !== 'root' && user !== '0'), 'User= (not root) or DynamicUser=yes').toBe(true);
    expect(only('StateDirectory')).toBe('hastate');
  });

  it('is hardened: no privileges, read-only system, only the socket families node needs', () => {
    for (const key of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp', 'ProtectKernelTunables']) expect(only(key), key).toBe('yes');
    expect(only('ProtectSystem')).toBe('strict');
    // Set, and set empty: no capability at all.
    expect(service('CapabilityBoundingSet')).toEqual([]);
    expect(service('AmbientCapabilities')).toEqual([]);
    // AF_NETLINK: os.networkInterfaces() (the default ha.interface) lists addresses over netlink.
    expect(new Set(only('RestrictAddressFamilies').split(/\s+/))).toEqual(new Set(['AF_INET', 'AF_INET6', 'AF_UNIX', 'AF_NETLINK']));
    expect(service('SystemCallFilter')).toContain('@system-service');
    // V8's JIT needs memory it can make executable: this option would abort node.
    expect(service('MemoryDenyWriteExecute') ?? ['no']).toEqual(['no']);
  });
});

describe('the unit-file parser', () => {
  it('reads repeats, resets, continuations and comments as systemd does', () => {
    const u = parseUnitFile('# c\n[Service]\nA=1\nA=2\nB=x\nB=\nC=one \\\n  two\n; c\n');
    expect(directive(u, 'Service', 'A')).toEqual(['1', '2']);
    expect(directive(u, 'Service', 'B')).toEqual([]);
    expect(directive(u, 'Service', 'C')).toEqual(['one two']);
    expect(directive(u, 'Service', 'D')).toBeUndefined();
  });

  it('names the line of anything it cannot read', () => {
    expect(() => parseUnitFile('[Service]\nnot a directive\n', 'x.service')).toThrow(new UnitFileError('x.service:2: expected Key=value or [Section], got "not a directive"'));
    expect(() => parseUnitFile('A=1\n', 'x.service')).toThrow('x.service:1: A= before any [Section]');
    expect(() => timeSpanMs('15 parsecs')).toThrow('not a time span');
    expect(timeSpanMs('1min 30s')).toBe(90_000);
  });
});

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const hasAnalyze = analyze.status === 0;
if (!hasAnalyze) console.warn('systemd-analyze is not installed: skipping `systemd-analyze verify` of the unit (apt-get install systemd)');

describe.skipIf(!hasAnalyze)('systemd-analyze verify', () => {
  it('accepts the unit without a warning', () => {
    // verify insists that ExecStart's program exists; only that path is swapped for a stub.
    const dir = mkdtempSync(join(tmpdir(), 'hastate-unit-'));
    const stub = join(dir, 'hastate');
    writeFileSync(stub, '#!/bin/sh\n');
    chmodSync(stub, 0o755);
    const copy = join(dir, 'hastate.service');
    writeFileSync(copy, text.replaceAll('/usr/local/bin/hastate', stub));
    const result = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 30_000 });
    // verify exits 0 on directives it ignores, so any output counts as a failure too.
    expect({ status: result.status, output: `${result.stdout}${result.stderr}`.trim() }).toEqual({ status: 0, output: '' });
  });
});
