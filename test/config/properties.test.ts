import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/errors.ts';
import {
  LOG_LEVELS, MAX_NODE_ID_BYTES, MAX_SECONDS, parseConfigText, renderEffectiveConfig, ROLES, type HastateConfig,
} from '../../src/config/index.ts';
import { fakeInterfaces } from './helpers.ts';
import { AUTH_MODES } from '../../src/transport/auth.ts';
import { fcParams } from '../properties/arbitraries.ts';

// Key sources for ha.auth: a good file, a short one, a missing one, and a set environment variable.
const keyDir = mkdtempSync(join(tmpdir(), 'hastate-prop-'));
const GOOD_KEYS = join(keyDir, 'good.key');
const SHORT_KEY = join(keyDir, 'short.key');
writeFileSync(GOOD_KEYS, `1:${'a'.repeat(20)}\n2:${'b'.repeat(20)}\n`);
writeFileSync(SHORT_KEY, '1:short\n');
const opts = { env: { HA_KEYS: `1:${'c'.repeat(16)},5:${'d'.repeat(30)}` }, networkInterfaces: fakeInterfaces };

function checkInvariants(c: HastateConfig): void {
  const { ha, status, log } = c;
  const ms = [ha.electionWindowMs, ha.heartbeat.intervalMs, ha.heartbeat.timeoutMs];
  for (const m of ms) {
    expect(Number.isInteger(m)).toBe(true);
    expect(m).toBeGreaterThanOrEqual(1);
    expect(m).toBeLessThanOrEqual(MAX_SECONDS * 1000);
  }
  expect(ha.heartbeat.timeoutMs).toBeGreaterThan(ha.heartbeat.intervalMs);
  expect(Number.isInteger(ha.heartbeat.port) && ha.heartbeat.port >= 1 && ha.heartbeat.port <= 65535).toBe(true);
  expect(Number.isInteger(status.port) && status.port >= 0 && status.port <= 65535).toBe(true);
  expect(Number.isInteger(ha.priority) && ha.priority === (ha.priority | 0)).toBe(true);
  expect(ha.multicastGroup).toMatch(/^2(2[4-9]|3\d)\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
  expect(ha.interface).toMatch(/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
  const bytes = Buffer.byteLength(ha.nodeId, 'utf8');
  expect(bytes >= 1 && bytes <= MAX_NODE_ID_BYTES).toBe(true);
  expect(ha.nodeId).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  expect(ROLES).toContain(ha.role);
  expect(LOG_LEVELS).toContain(log.level);
  expect(typeof ha.enabled === 'boolean' && typeof ha.preempt === 'boolean' && typeof status.enabled === 'boolean').toBe(true);
  const { auth } = ha;
  expect(AUTH_MODES).toContain(auth.mode);
  expect(Number.isInteger(auth.keyId) && auth.keyId >= 0 && auth.keyId <= 255).toBe(true);
  expect(Number.isInteger(auth.freshnessWindowMs) && auth.freshnessWindowMs >= 1).toBe(true);
  // A key source means keys were read and hold the signing key; mode on means a key source.
  expect(auth.keys !== null).toBe(auth.keyFile !== '' || auth.keyEnv !== '');
  if (auth.keys !== null) expect(auth.keys.has(auth.keyId)).toBe(true);
  if (auth.mode !== 'off') expect(auth.keys).not.toBeNull();
  // The rendered form is a fixed point.
  expect(parseConfigText(renderEffectiveConfig(c), 'rendered', opts)).toEqual(c);
}

/** Parse; anything thrown must be a ConfigError with at least one problem; results must be valid. */
function parseChecked(text: string): 'valid' | 'rejected' {
  let c: HastateConfig;
  try {
    c = parseConfigText(text, 'fuzz.yaml', opts);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) {
      expect(p.message.length).toBeGreaterThan(0);
      if (p.line !== undefined) expect(p.line).toBeGreaterThanOrEqual(1);
    }
    return 'rejected';
  }
  checkInvariants(c);
  return 'valid';
}

const junk = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.string(),
  fc.constantFrom(null, true, false, 0, -0, 1, -1, 0.5, 1e21, '3', 'true', '', '224.1.1.1', '10.0.0.1', 'localhost'),
);
/** Mostly valid values, sometimes edge cases, sometimes junk: both outcomes get exercised. */
const mostly = <T>(valid: fc.Arbitrary<T>, edge: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: edge, weight: 1 }, { arbitrary: junk, weight: 1 });
const seconds = mostly(
  fc.oneof(fc.double({ min: 0.001, max: MAX_SECONDS, noNaN: true }), fc.integer({ min: 1, max: 20 })),
  fc.oneof(
    fc.double({ min: -1, max: MAX_SECONDS + 1 }),
    fc.constantFrom(0, 0.0004, 0.0005, 0.001, 3600, 3600.0001, Number.NaN, Number.POSITIVE_INFINITY),
  ),
);
const port = (min: number) => mostly(fc.integer({ min, max: 65535 }), fc.oneof(fc.integer({ min: -2, max: 70000 }), fc.double()));
const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = (first: fc.Arbitrary<number>) => fc.tuple(first, octet, octet, octet).map((o) => o.join('.'));
const anyIpv4 = fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((o) => o.join('.'));
const opt = <T>(r: Record<string, fc.Arbitrary<T>>) => fc.record(r, { requiredKeys: [] });

const configLike = fc.tuple(
  opt({
    ha: mostly(
      opt({
        enabled: mostly(fc.boolean(), fc.constantFrom('true', 'yes', 1)),
        multicast_group: mostly(ipv4(fc.integer({ min: 224, max: 239 })), anyIpv4),
        interface: mostly(ipv4(fc.integer({ min: 1, max: 223 })), anyIpv4),
        node_id: mostly(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 40, unit: 'binary' })),
        priority: mostly(fc.integer(), fc.oneof(fc.double(), fc.constantFrom(2 ** 31, -(2 ** 31) - 1))),
        role: mostly(fc.constantFrom(...ROLES), fc.constantFrom('master', 'Auto')),
        preempt: mostly(fc.boolean(), fc.constant('false')),
        election_window_seconds: seconds,
        heartbeat: mostly(opt({ port: port(1), interval_seconds: seconds, timeout_seconds: seconds }), fc.constant([])),
        auth: mostly(
          opt({
            mode: mostly(fc.constantFrom(...AUTH_MODES), fc.constantFrom('on', 'Enforce', false)),
            key_file: mostly(fc.constantFrom('', GOOD_KEYS), fc.constantFrom(SHORT_KEY, join(keyDir, 'missing.key'), keyDir, '/dev/null', '\u0000')),
            key_env: mostly(fc.constantFrom('', 'HA_KEYS'), fc.constantFrom('UNSET_KEYS', 'HASTATE_KEYS', '1BAD', 'A-B')),
            key_id: mostly(fc.constantFrom(1, 2, 5), fc.integer({ min: -1, max: 300 })),
            freshness_window_seconds: seconds,
          }),
          fc.constant('enforce'),
        ),
      }),
      fc.constant(null),
    ),
    status: mostly(
      opt({ enabled: fc.boolean(), host: mostly(fc.oneof(ipv4(octet), fc.constant('localhost')), anyIpv4), port: port(0) }),
      fc.constant('status'),
    ),
    log: mostly(opt({ level: mostly(fc.constantFrom(...LOG_LEVELS), fc.constantFrom('verbose', 'INFO')) }), fc.constant(1)),
  }),
  fc.oneof({ arbitrary: fc.constant({}), weight: 5 }, { arbitrary: fc.dictionary(fc.string({ maxLength: 12 }), junk, { maxKeys: 2 }), weight: 1 }),
).map(([known, extra]) => ({ ...extra, ...known }));

function yamlOf(v: unknown): string | undefined {
  try {
    return stringify(v) as string | undefined;
  } catch {
    return undefined; // values the yaml package cannot serialise are not our concern
  }
}

const yamlTokens = fc
  .array(
    fc.constantFrom(
      'ha', 'status', 'log', 'heartbeat', 'timeout_seconds', 'interval_seconds', 'port', 'node_id', 'priority', ':', ': ',
      ' ', '  ', '\n', '\t', '-', '- ', '[', ']', '{', '}', ',', '"', "'", '\\', '&a ', '*a', '!!str ', '!!binary ', '!x ',
      '#', '?', '|', '>', '---', '...', '%YAML 1.1\n', '1', '0.5', '-3', '.inf', '.nan', 'true', '~', 'null', '\u0000',
      '\uFEFF', 'é', '\ud800', '<<', '@', '`', '\r\n',
    ),
    { maxLength: 60 },
  )
  .map((ts) => ts.join(''));

describe('config properties', () => {
  it('YAML-serialised random config-like values: ConfigError or a valid config', () => {
    const seen = { valid: 0, rejected: 0 };
    fc.assert(
      fc.property(configLike, (value) => {
        const text = yamlOf(value);
        fc.pre(text !== undefined);
        seen[parseChecked(text!)]++;
      }),
      { ...fcParams(), numRuns: 1000 },
    );
    // Make sure the generator exercises both outcomes, not only rejections.
    expect(seen.valid).toBeGreaterThan(50);
    expect(seen.rejected).toBeGreaterThan(50);
  });

  it('YAML-serialised arbitrary values: ConfigError or a valid config', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const text = yamlOf(value);
        fc.pre(text !== undefined);
        parseChecked(text!);
      }),
      { ...fcParams(), numRuns: 500 },
    );
  });

  it('random strings and YAML-token soup as config text: ConfigError or a valid config', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), yamlTokens), (text) => {
        parseChecked(text);
      }),
      { ...fcParams(), numRuns: 2000 },
    );
  });

  it('valid configurations are accepted and round-trip through renderEffectiveConfig', () => {
    const valid = fc
      .record({
        priority: fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }),
        interval: fc.integer({ min: 1, max: 1_000_000 }),
        extra: fc.integer({ min: 1, max: 1_000_000 }),
        window: fc.integer({ min: 1, max: 3_600_000 }),
        nodeId: fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s)),
        port: fc.integer({ min: 1, max: 65535 }),
      })
      .map((r) => ({
        ha: {
          priority: r.priority,
          node_id: r.nodeId,
          election_window_seconds: r.window / 1000,
          heartbeat: { port: r.port, interval_seconds: r.interval / 1000, timeout_seconds: (r.interval + r.extra) / 1000 },
        },
      }));
    fc.assert(
      fc.property(valid, (v) => {
        const c = parseConfigText(stringify(v), 'valid.yaml', opts);
        expect(c.ha.heartbeat.intervalMs).toBe(Math.round(v.ha.heartbeat.interval_seconds * 1000));
        expect(c.ha.nodeId).toBe(v.ha.node_id);
        checkInvariants(c);
      }),
      { ...fcParams(), numRuns: 300 },
    );
  });
});
