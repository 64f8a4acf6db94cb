import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, loadConfig, parseConfigText, renderEffectiveConfig } from '../../src/config/index.ts';
import { DEFAULTS, fakeInterfaces, HASTATE_DEFAULTS, parse } from './helpers.ts';
import { REFERENCE_KEYS } from '../../src/reference/config.ts';

describe('loading configuration', () => {
  it('defaults: no file, an empty file, a comment-only file, empty sections', () => {
    expect(loadConfig({ env: {}, networkInterfaces: fakeInterfaces })).toEqual(HASTATE_DEFAULTS);
    expect(loadConfig({ env: {}, networkInterfaces: fakeInterfaces, appKeys: REFERENCE_KEYS })).toEqual(DEFAULTS);
    expect(parse('')).toEqual(DEFAULTS);
    expect(parse('# nothing here\n')).toEqual(DEFAULTS);
    expect(parse('---\n')).toEqual(DEFAULTS);
    expect(parse('ha:\n  heartbeat:\nstatus:\nlog: {}\n')).toEqual(DEFAULTS);
  });

  it('the default interface is the first non-internal IPv4 address; node_id defaults to the interface', () => {
    expect(parse('ha:\n  interface: 192.168.1.5\n').ha).toMatchObject({ interface: '192.168.1.5', nodeId: '192.168.1.5' });
    expect(parse('ha:\n  node_id: alpha\n').ha).toMatchObject({ interface: '10.1.2.3', nodeId: 'alpha' });
  });

  it('reads every key, converting seconds to integer milliseconds', () => {
    const c = parse(
      [
        'ha:',
        '  enabled: false',
        '  multicast_group: 239.1.2.3',
        '  interface: 192.168.0.10',
        '  node_id: "nœud-1"',
        '  priority: -7',
        '  role: standby',
        '  preempt: true',
        '  election_window_seconds: 0.25',
        '  heartbeat: { port: 7000, interval_seconds: 0.2, timeout_seconds: 0.7 }',
        'status: { enabled: false, host: localhost, port: 0 }',
        'log: { level: silent }',
      ].join('\n'),
    );
    expect({ ha: c.ha, status: c.status, log: c.log }).toEqual({
      ha: {
        enabled: false,
        multicastGroup: '239.1.2.3',
        interface: '192.168.0.10',
        nodeId: 'nœud-1',
        priority: -7,
        role: 'standby',
        preempt: true,
        electionWindowMs: 250,
        heartbeat: { port: 7000, intervalMs: 200, timeoutMs: 700 },
        auth: DEFAULTS.ha.auth,
        backend: DEFAULTS.ha.backend,
        lease: DEFAULTS.ha.lease,
        redis: DEFAULTS.ha.redis,
        etcd: DEFAULTS.ha.etcd,
        stateDir: '',
      },
      status: { enabled: false, host: 'localhost', port: 0, tokenFile: '', tokenEnv: '', token: null },
      log: { level: 'silent' },
    });
  });

  it('fractional seconds round to the nearest millisecond', () => {
    const c = parse('ha:\n  election_window_seconds: 0.0015\n  heartbeat:\n    interval_seconds: 1.2344\n    timeout_seconds: 3600\n');
    expect(c.ha.electionWindowMs).toBe(2);
    expect(c.ha.heartbeat).toMatchObject({ intervalMs: 1234, timeoutMs: 3_600_000 });
    expect(parse('ha: {election_window_seconds: 0.0005}').ha.electionWindowMs).toBe(1);
  });

  it('environment variables override the file, parsed per key type', () => {
    const c = parse('ha:\n  priority: 1\n  heartbeat:\n    interval_seconds: 1\nlog:\n  level: warn\n', {
      HASTATE_HA_PRIORITY: '-42',
      HASTATE_HA_PREEMPT: 'true',
      HASTATE_HA_HEARTBEAT_INTERVAL_SECONDS: '0.5',
      HASTATE_HA_HEARTBEAT_TIMEOUT_SECONDS: '1.5e0',
      HASTATE_STATUS_PORT: '8080',
      HASTATE_LOG_LEVEL: 'debug',
      HASTATE_HA_NODE_ID: 'from-env',
      HASTATE_CONFIG: 'ignored.yaml',
      HASTATE_HA_ROLE: undefined,
      PATH: '/usr/bin',
    });
    expect(c.ha).toMatchObject({ priority: -42, preempt: true, nodeId: 'from-env', role: 'auto' });
    expect(c.ha.heartbeat).toMatchObject({ intervalMs: 500, timeoutMs: 1500 });
    expect(c.status.port).toBe(8080);
    expect(c.log.level).toBe('debug');
  });

  it('an environment override can fix the cross-field check of file values', () => {
    expect(parse('ha: {heartbeat: {interval_seconds: 10}}', { HASTATE_HA_HEARTBEAT_TIMEOUT_SECONDS: '30' }).ha.heartbeat)
      .toMatchObject({ intervalMs: 10_000, timeoutMs: 30_000 });
  });

  it('JSON files go through the same parser', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hastate-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ ha: { priority: 5, heartbeat: { interval_seconds: 0.5 } }, log: { level: 'error' } }));
    const c = loadConfig({ file, env: {}, networkInterfaces: fakeInterfaces });
    expect(c.ha.priority).toBe(5);
    expect(c.ha.heartbeat.intervalMs).toBe(500);
    expect(c.log.level).toBe('error');
  });

  it('renderEffectiveConfig writes snake_case and seconds, and re-parses to the same config', () => {
    const c = parse('ha: {node_id: "true", priority: 3, heartbeat: {interval_seconds: 0.2, timeout_seconds: 0.7}}');
    const text = renderEffectiveConfig(c, REFERENCE_KEYS);
    expect(text).toContain('interval_seconds: 0.2\n');
    expect(text).toContain('multicast_group: 224.100.200.16\n');
    expect(text).toContain('node_id: "true"\n');
    expect(parseConfigText(text, 'rendered', { env: {}, networkInterfaces: () => ({}), appKeys: REFERENCE_KEYS })).toEqual(c);
    expect(renderEffectiveConfig(DEFAULTS)).toContain(
      [
        'ha:', '  enabled: true', '  backend: multicast', '  multicast_group: 224.100.200.16', '  interface: 10.1.2.3', '  node_id: 10.1.2.3',
        '  priority: 0', '  role: auto', '  preempt: false', '  election_window_seconds: 2', '  heartbeat:',
        '    port: 9999', '    interval_seconds: 3', '    timeout_seconds: 9', '  auth:', '    mode: off',
        '    key_file: ""', '    key_env: ""', '    key_id: 1', '    freshness_window_seconds: 30', '  lease:',
        '    ttl_seconds: 15', '    renew_deadline_seconds: 10', '    retry_period_seconds: 2', '  redis:', '    url: redis://127.0.0.1:6379',
        '    key_prefix: hastate', '  etcd:', '    endpoints: http://127.0.0.1:2379', '    prefix: /hastate/election', '  state_dir: ""', 'status:', '  enabled: true',
        '  host: 127.0.0.1', '  port: 9990', '  token_file: ""', '  token_env: ""', 'log:', '  level: info', 'notify:', '  primary: ""', '',
      ].join('\n'),
    );
  });
});

describe('CONFIG_KEYS', () => {
  it('documents every key with its env variable, type, default and doc', () => {
    // Other keys may be added; none of these may silently disappear.
    expect(CONFIG_KEYS.map((k) => k.path)).toEqual(expect.arrayContaining([
      'ha.enabled', 'ha.multicast_group', 'ha.interface', 'ha.node_id', 'ha.priority', 'ha.role', 'ha.preempt',
      'ha.election_window_seconds', 'ha.heartbeat.port', 'ha.heartbeat.interval_seconds', 'ha.heartbeat.timeout_seconds',
      'status.enabled', 'status.host', 'status.port', 'log.level',
      'notify.primary', 'notify.standby', 'notify.fault', 'notify.stop', 'notify.timeout_seconds',
      'status.token_file', 'status.token_env',
    ]));
    expect(REFERENCE_KEYS.table.map((k) => k.path)).toEqual(expect.arrayContaining([
      'reference.enabled', 'reference.api_url', 'reference.alerts.port', 'reference.monitor.request_port', 'reference.bmc.group',
    ]));
    for (const k of [...CONFIG_KEYS, ...REFERENCE_KEYS.table]) {
      expect(k.env).toBe(`HASTATE_${k.path.replace(/\./g, '_').toUpperCase()}`);
      expect(k.type && k.default && k.doc).toBeTruthy();
    }
    expect(CONFIG_KEYS.find((k) => k.path === 'ha.heartbeat.timeout_seconds')).toMatchObject({
      env: 'HASTATE_HA_HEARTBEAT_TIMEOUT_SECONDS', default: '9',
    });
  });

  it('every documented variable is accepted from the environment', () => {
    const sample: Record<string, string> = {
      HASTATE_HA_ENABLED: 'false', HASTATE_HA_MULTICAST_GROUP: '239.0.0.1', HASTATE_HA_INTERFACE: '10.9.9.9',
      HASTATE_HA_NODE_ID: 'n', HASTATE_HA_PRIORITY: '1', HASTATE_HA_ROLE: 'primary', HASTATE_HA_PREEMPT: 'true',
      HASTATE_HA_ELECTION_WINDOW_SECONDS: '1', HASTATE_HA_HEARTBEAT_PORT: '1', HASTATE_HA_HEARTBEAT_INTERVAL_SECONDS: '1',
      HASTATE_HA_HEARTBEAT_TIMEOUT_SECONDS: '2', HASTATE_STATUS_ENABLED: 'false', HASTATE_STATUS_HOST: '0.0.0.0',
      HASTATE_STATUS_PORT: '1', HASTATE_LOG_LEVEL: 'trace',
    };
    // Every other key is given its documented default as text: still read through the environment.
    const documented = [...CONFIG_KEYS, ...REFERENCE_KEYS.table];
    for (const k of documented) {
      if (k.env in sample) continue;
      const d = k.default.startsWith('"" ') ? '' : k.default;
      sample[k.env] = d;
    }
    expect(Object.keys(sample).sort()).toEqual(documented.map((k) => k.env).sort());
    const c = parse('', sample);
    expect(renderEffectiveConfig(c, REFERENCE_KEYS)).not.toBe(renderEffectiveConfig(DEFAULTS, REFERENCE_KEYS));
    expect(c.ha).toMatchObject({ enabled: false, interface: '10.9.9.9', role: 'primary', electionWindowMs: 1000 });
  });
});
