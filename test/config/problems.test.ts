import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigProblem } from '../../src/errors.ts';
import { loadConfig, MAX_FILE_BYTES, parseConfigText } from '../../src/config/index.ts';
import { fakeInterfaces, problems } from './helpers.ts';

const lines = (...ls: string[]) => ls.join('\n') + '\n';

describe('config problems: each kind is reported with file, line, column and key', () => {
  it('YAML syntax error', () => {
    expect(problems(lines('ha:', '  priority: [1, 2', 'log: {}'))).toEqual([
      expect.stringMatching(/^cfg\.yaml:3:1: \(yaml\): YAML syntax error: .*\]/),
    ]);
  });

  it('one problem per YAML syntax error', () => {
    expect(problems(lines('ha: priority: 1', 'log: level: info', 'status: [1'))).toEqual([
      'cfg.yaml:1:5: (yaml): YAML syntax error: Nested mappings are not allowed in compact mappings',
      'cfg.yaml:2:6: (yaml): YAML syntax error: Nested mappings are not allowed in compact mappings',
      'cfg.yaml:4:1: (yaml): YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('more than 20 YAML errors are summarised after the first 20', () => {
    const ps = problems(Array.from({ length: 25 }, (_, i) => `a${i}: b: c`).join('\n'));
    expect(ps).toHaveLength(21);
    expect(ps[19]).toBe('cfg.yaml:20:6: (yaml): YAML syntax error: Nested mappings are not allowed in compact mappings');
    expect(ps[20]).toBe('cfg.yaml: (yaml): 5 more YAML syntax errors not shown');
  });

  it('multiple YAML documents', () => {
    expect(problems(lines('ha: {}', '---', 'log: {}'))).toEqual([
      'cfg.yaml:2:1: (yaml): YAML syntax error: Source contains multiple documents; please use YAML.parseAllDocuments()',
    ]);
  });

  it('duplicate key', () => {
    expect(problems(lines('status:', '  port: 1', '  host: localhost', '  port: 2'))).toEqual([
      'cfg.yaml:4:3: status.port: duplicate key (first defined at line 2)',
    ]);
  });

  it('top level not a mapping', () => {
    expect(problems(lines('- ha', '- status'))).toEqual([
      'cfg.yaml:1:1: (root): top level must be a mapping (ha, status, log), found a sequence',
    ]);
    expect(problems('just text')).toEqual([
      'cfg.yaml:1:1: (root): top level must be a mapping (ha, status, log), found string "just text"',
    ]);
  });

  it('unknown key, with a suggestion when a known key is close', () => {
    expect(problems(lines('ha:', '  hearbeat:', '    port: 1', 'heartbeat: {}', 'colour: blue'))).toEqual([
      'cfg.yaml:2:3: ha.hearbeat: unknown key; did you mean ha.heartbeat?',
      'cfg.yaml:4:1: heartbeat: unknown key; did you mean ha.heartbeat?',
      'cfg.yaml:5:1: colour: unknown key',
    ]);
  });

  it('wrong type: a quoted number is a string, not coerced', () => {
    expect(problems(lines('ha:', '  heartbeat:', '    interval_seconds: "3"'))).toEqual([
      'cfg.yaml:3:23: ha.heartbeat.interval_seconds: expected a number of seconds, found string "3"',
    ]);
  });

  it('wrong type: booleans, strings, sections and empty values', () => {
    expect(problems(lines('ha:', '  enabled: yes', '  node_id: 42', '  priority:', 'status: 1'))).toEqual([
      'cfg.yaml:2:12: ha.enabled: expected boolean (true or false), found string "yes"',
      'cfg.yaml:3:12: ha.node_id: expected string, found number 42 (quote it if you meant the text "42")',
      'cfg.yaml:4:12: ha.priority: expected integer, found an empty value (null)',
      'cfg.yaml:5:9: status: expected a mapping of status.* keys, found number 1',
    ]);
  });

  it('non-string key', () => {
    expect(problems(lines('ha:', '  ? [a, b]', '  : 1'))).toEqual([
      'cfg.yaml:2:5: ha.(key): keys must be plain strings, found a sequence as a key',
    ]);
  });

  it('unresolved alias', () => {
    expect(problems(lines('ha:', '  priority: *prio'))).toEqual(['cfg.yaml:2:13: ha.priority: unresolved alias *prio']);
  });

  it('YAML warnings (unknown tag) are problems too', () => {
    expect(problems(lines('ha:', '  node_id: !custom a'))).toEqual(['cfg.yaml:2:12: (yaml): YAML warning: Unresolved tag: !custom']);
  });

  it('non-multicast group', () => {
    expect(problems(lines('ha:', '  multicast_group: 10.0.0.1'))).toEqual([
      'cfg.yaml:2:20: ha.multicast_group: "10.0.0.1" is not an IPv4 multicast address (224.0.0.0/4: 224.0.0.0 - 239.255.255.255)',
    ]);
    expect(problems(lines('ha:', '  multicast_group: 224.1.1.256'))).toEqual([
      'cfg.yaml:2:20: ha.multicast_group: "224.1.1.256" is not a dotted-quad IPv4 address',
    ]);
  });

  it('interface not an IPv4 address', () => {
    expect(problems(lines('ha:', '  interface: eth0'))).toEqual([
      `cfg.yaml:2:14: ha.interface: "eth0" is not a dotted-quad IPv4 address (give the NIC's address, not its name)`,
    ]);
    expect(problems(lines('ha:', '  interface: 010.0.0.1'))[0]).toContain('is not a dotted-quad IPv4 address');
    expect(problems(lines('ha:', '  interface: 239.1.1.1'))).toEqual([
      'cfg.yaml:2:14: ha.interface: "239.1.1.1" is not a unicast address of a network interface',
    ]);
  });

  it('status host not an IPv4 address or localhost', () => {
    expect(problems(lines('status:', '  host: example.com'))).toEqual([
      'cfg.yaml:2:9: status.host: "example.com" is not a dotted-quad IPv4 address or "localhost"',
    ]);
  });

  it('port out of range or not an integer', () => {
    expect(problems(lines('ha:', '  heartbeat:', '    port: 0', 'status:', '  port: 65536'))).toEqual([
      'cfg.yaml:3:11: ha.heartbeat.port: must be a port number (1..65535), found 0',
      'cfg.yaml:5:9: status.port: must be a port number (0..65535), found 65536',
    ]);
    expect(problems(lines('status:', '  port: 80.5'))).toEqual(['cfg.yaml:2:9: status.port: expected integer, found number 80.5']);
  });

  it('priority not an int32', () => {
    expect(problems(lines('ha:', '  priority: 2147483648'))).toEqual([
      'cfg.yaml:2:13: ha.priority: must be a 32-bit signed integer above the reserved -2147483648 (-2147483647..2147483647), found 2147483648',
    ]);
    expect(problems(lines('ha:', '  priority: -2147483649'))[0]).toContain('ha.priority: must be a 32-bit signed integer');
  });

  it('timeout not greater than interval is reported on timeout_seconds, naming the interval', () => {
    expect(problems(lines('ha:', '  heartbeat:', '    interval_seconds: 5', '    timeout_seconds: 5'))).toEqual([
      'cfg.yaml:4:22: ha.heartbeat.timeout_seconds: must be greater than ha.heartbeat.interval_seconds (5), found 5',
    ]);
  });

  it('a default timeout not greater than a configured interval', () => {
    expect(problems(lines('ha:', '  heartbeat:', '    interval_seconds: 10'))).toEqual([
      'defaults: ha.heartbeat.timeout_seconds: must be greater than ha.heartbeat.interval_seconds (10), found the default 9',
    ]);
  });

  it('durations: zero, negative, infinite, above the limit, rounding to 0 ms', () => {
    expect(
      problems(lines('ha:', '  election_window_seconds: 0', '  heartbeat:', '    interval_seconds: -1', '    timeout_seconds: .inf')),
    ).toEqual([
      'cfg.yaml:2:28: ha.election_window_seconds: must be greater than 0 seconds, found 0',
      'cfg.yaml:4:23: ha.heartbeat.interval_seconds: must be greater than 0 seconds, found -1',
      'cfg.yaml:5:22: ha.heartbeat.timeout_seconds: must be a finite number of seconds, found Infinity',
    ]);
    expect(problems(lines('ha:', '  election_window_seconds: 3600.5'))).toEqual([
      'cfg.yaml:2:28: ha.election_window_seconds: must be at most 3600 seconds, found 3600.5',
    ]);
    expect(problems(lines('ha:', '  election_window_seconds: 0.0004'))).toEqual([
      'cfg.yaml:2:28: ha.election_window_seconds: must be at least 0.001 seconds (1 ms), found 0.0004',
    ]);
  });

  it('node_id too long, counted in UTF-8 bytes', () => {
    expect(problems(lines('ha:', `  node_id: ${'é'.repeat(16)}`))).toEqual([
      'cfg.yaml:2:12: ha.node_id: must be at most 31 UTF-8 bytes, found 32 bytes',
    ]);
    expect(problems(lines('ha:', '  node_id: ""'))).toEqual(['cfg.yaml:2:12: ha.node_id: must not be empty']);
  });

  it('node_id with NUL or control characters', () => {
    expect(problems(lines('ha:', '  node_id: "a\\0b"', 'status: {}'))).toEqual([
      'cfg.yaml:2:12: ha.node_id: must not contain NUL or control characters, found U+0000 at index 1',
    ]);
    expect(problems(lines('ha:', '  node_id: "tab\\there"'))[0]).toContain('found U+0009 at index 3');
  });

  it('unknown enum value lists the allowed ones', () => {
    expect(problems(lines('ha:', '  role: master', 'log:', '  level: verbose'))).toEqual([
      'cfg.yaml:2:9: ha.role: must be one of: auto, primary, standby; found string "master"',
      'cfg.yaml:4:10: log.level: must be one of: trace, debug, info, warn, error, fatal, silent; found string "verbose"',
    ]);
  });

  it('collections nested absurdly deep are refused before parsing (and never crash the process)', () => {
    for (let i = 0; i < 3; i++) {
      expect(problems(`ha: ${'['.repeat(5000)}`)).toEqual(['cfg.yaml:1:68: (yaml): collections nested more than 64 levels deep']);
      expect(problems('- '.repeat(3000) + 'x')[0]).toMatch(/^cfg\.yaml:1:\d+: \(yaml\): collections nested more than 64/);
    }
  });

  it('more than 100 problems are summarised in one extra line', () => {
    const ps = problems(Array.from({ length: 150 }, (_, i) => `k${i}: 1`).join('\n'));
    expect(ps).toHaveLength(101);
    expect(ps[99]).toBe('cfg.yaml:100:1: k99: unknown key');
    expect(ps[100]).toBe('config: (more): 50 more problems not shown');
  });

  it('a byte order mark does not shift columns', () => {
    expect(problems('\uFEFFha: {priority: x}')).toEqual(['cfg.yaml:1:16: ha.priority: expected integer, found string "x"']);
  });

  it('no non-internal IPv4 interface on the host', () => {
    const err = (() => {
      try {
        parseConfigText('', 'cfg.yaml', { env: {}, networkInterfaces: () => ({ lo: fakeInterfaces().lo }) });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.problems.map(formatConfigProblem)).toEqual([
      'defaults: ha.interface: no non-internal IPv4 interface found; set ha.interface',
    ]);
  });

  it('environment: unknown variable and bad values', () => {
    expect(
      problems('', {
        HASTATE_LOG_LEVL: 'debug',
        HASTATE_WHATEVER: '1',
        HASTATE_CONFIG: '/etc/hastate.yaml',
        HASTATE_HA_PRIORITY: '0x10',
        HASTATE_HA_PREEMPT: 'yes',
        HASTATE_STATUS_PORT: '99999',
        HASTATE_HA_HEARTBEAT_INTERVAL_SECONDS: '',
      }),
    ).toEqual([
      'env: HASTATE_HA_HEARTBEAT_INTERVAL_SECONDS: expected a number, found ""',
      'env: HASTATE_HA_PREEMPT: expected true or false, found "yes"',
      'env: HASTATE_HA_PRIORITY: expected a number, found "0x10"',
      'env: HASTATE_LOG_LEVL: unknown variable; did you mean HASTATE_LOG_LEVEL?',
      'env: HASTATE_STATUS_PORT: must be a port number (0..65535), found 99999',
      'env: HASTATE_WHATEVER: unknown variable',
    ]);
  });

  it('several problems in one file are all reported, in file order', () => {
    const text = lines(
      'ha:',
      '  priority: "3"',
      '  role: leader',
      '  heartbeat:',
      '    port: 70000',
      '    interval_seconds: 4',
      '    timeout_seconds: 2',
      'status:',
      '  host: nowhere',
      'lgo:',
      '  level: info',
    );
    expect(problems(text, { HASTATE_STATUS_ENABLED: 'maybe' })).toEqual([
      'cfg.yaml:2:13: ha.priority: expected integer, found string "3"',
      'cfg.yaml:3:9: ha.role: must be one of: auto, primary, standby; found string "leader"',
      'cfg.yaml:5:11: ha.heartbeat.port: must be a port number (1..65535), found 70000',
      'cfg.yaml:7:22: ha.heartbeat.timeout_seconds: must be greater than ha.heartbeat.interval_seconds (4), found 2',
      'cfg.yaml:9:9: status.host: "nowhere" is not a dotted-quad IPv4 address or "localhost"',
      'cfg.yaml:10:1: lgo: unknown key; did you mean log?',
      'env: HASTATE_STATUS_ENABLED: expected true or false, found "maybe"',
    ]);
  });
});

describe('config problems: files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hastate-config-'));
  const load = (file: string) => {
    try {
      loadConfig({ file, env: {}, networkInterfaces: fakeInterfaces });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems.map(formatConfigProblem);
    }
    throw new Error('expected a ConfigError');
  };

  it('a missing file is one problem', () => {
    const file = join(dir, 'missing.yaml');
    const ps = load(file);
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatch(new RegExp(`^${file.replace(/[.\\]/g, '\\$&')}: \\(file\\): cannot read file: ENOENT`));
  });

  it('a file that is too large', () => {
    const file = join(dir, 'big.yaml');
    writeFileSync(file, `# ${'x'.repeat(MAX_FILE_BYTES)}\n`);
    expect(load(file)).toEqual([`${file}: (file): file too large (${MAX_FILE_BYTES + 3} bytes; the limit is ${MAX_FILE_BYTES})`]);
  });

  it('a file that is not UTF-8', () => {
    const file = join(dir, 'latin1.yaml');
    writeFileSync(file, Buffer.from([0x68, 0x61, 0x3a, 0x20, 0xe9, 0x0a]));
    expect(load(file)).toEqual([`${file}: (file): file is not valid UTF-8`]);
  });

  it('problems in a JSON file carry its path and positions', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{\n  "ha": {\n    "priority": 1.5\n  }\n}\n');
    expect(load(file)).toEqual([`${file}:3:17: ha.priority: expected integer, found number 1.5`]);
  });
});
