import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, type NetworkInterfaceInfo } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ConfigError, formatConfigProblem, HastateError } from '../../src/errors.ts';
import { parseConfigText, type HastateConfig } from '../../src/config/index.ts';
import { REFERENCE_KEYS, type ReferenceConfig } from '../../src/reference/config.ts';

export const FILE = 'cfg.yaml';

/** A fresh temporary directory, and a writer of owner-only (0600) files in it, as key and token files must be. */
export function secretFiles(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  return { dir, write };
}

const info = (address: string, internal: boolean): NetworkInterfaceInfo => ({
  address, netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: `${address}/8`,
});

/** A host with loopback plus one external NIC at 10.1.2.3. */
export const fakeInterfaces = (): NodeJS.Dict<NetworkInterfaceInfo[]> => ({
  lo: [info('127.0.0.1', true)],
  eth0: [{ ...info('fe80::1', false), family: 'IPv6', scopeid: 2 }, info('10.1.2.3', false)],
});

/** Parses with the reference application's keys, as the CLI does (they are not hastate's own). */
export const parse = (text: string, env: Record<string, string | undefined> = {}): HastateConfig & ReferenceConfig =>
  parseConfigText(text, FILE, { env, networkInterfaces: fakeInterfaces, appKeys: REFERENCE_KEYS });

/** The formatted problem lines of a config that must fail. */
export function problems(text: string, env: Record<string, string | undefined> = {}): string[] {
  try {
    parse(text, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map(formatConfigProblem);
  }
  throw new Error('expected a ConfigError');
}

/** hastate's own defaults (what loadConfig gives without appKeys). */
export const HASTATE_DEFAULTS: HastateConfig = {
  ha: {
    enabled: true,
    backend: 'multicast',
    multicastGroup: '224.100.200.16',
    interface: '10.1.2.3',
    nodeId: '10.1.2.3',
    priority: 0,
    role: 'auto',
    preempt: false,
    electionWindowMs: 2000,
    heartbeat: { port: 9999, intervalMs: 3000, timeoutMs: 9000 },
    auth: { mode: 'off', keyFile: '', keyEnv: '', keyId: 1, freshnessWindowMs: 30_000, keys: null },
    lease: { ttlMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
    redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'hastate' },
    etcd: { endpoints: 'http://127.0.0.1:2379', prefix: '/hastate/election' },
    stateDir: '',
  },
  status: { enabled: true, host: '127.0.0.1', port: 9990, tokenFile: '', tokenEnv: '', token: null },
  log: { level: 'info' },
  notify: { primary: '', standby: '', fault: '', stop: '', timeoutMs: 10_000 },
};

/** With the reference application's defaults, as parse (and the CLI) loads them. */
/** The formatted problem lines of a load that must fail. */
export function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map(formatConfigProblem);
  }
  throw new Error('expected a ConfigError');
}

/** The listed mistakes of a key declaration that must be refused (HASTATE_CONFIG_SCHEMA). */
export function schemaMistakes(declare: () => unknown): string[] {
  try {
    declare();
  } catch (err) {
    expect(err).toBeInstanceOf(HastateError);
    expect((err as HastateError).code).toBe('HASTATE_CONFIG_SCHEMA');
    return (err as Error).message.split('\n').slice(1);
  }
  throw new Error('expected a HastateError');
}

export const DEFAULTS: HastateConfig & ReferenceConfig = {
  ...HASTATE_DEFAULTS,
  reference: {
    enabled: false,
    apiUrl: 'http://127.0.0.1:9400',
    collectIntervalMs: 10_000,
    apiTimeoutMs: 2_000,
    staleAfterMs: 30_000,
    keepaliveIntervalMs: 10_000,
    monitor: { group: '224.100.200.17', requestPort: 9101, responsePort: 9102 },
    alerts: { host: '127.0.0.1', port: 9201, maxBodyBytes: 65_536, retryAfterMs: 1_000 },
    bmc: { group: '224.100.200.18', port: 9301 },
  },
};
