/**
 * The configuration key table: every key of hastate itself, its type, default, documentation
 * and validator (the reference application declares its own, src/reference/config.ts). Everything else (file parsing, env overrides, docs) is driven from this table,
 * so adding a key means adding one entry here and one field to `HastateConfig`.
 */

import { codePointName, INT32_MAX, INT32_MIN, LEAVING_PRIORITY, MAX_NODE_ID_BYTES, nodeIdProblem, parseIPv4 } from '../../machines/identity.ts';
import { AUTH_MODES, MAX_KEY_ID, type AuthKeyring, type AuthMode } from '../transport/auth.ts';

export const ROLES = ['auto', 'primary', 'standby'] as const;
export const BACKENDS = ['multicast', 'redis', 'etcd', 'single'] as const;
export type Backend = (typeof BACKENDS)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type Role = (typeof ROLES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface HastateConfig {
  ha: {
    enabled: boolean;
    backend: Backend;
    multicastGroup: string;
    interface: string;
    nodeId: string;
    priority: number;
    role: Role;
    preempt: boolean;
    electionWindowMs: number;
    heartbeat: { port: number; intervalMs: number; timeoutMs: number };
    auth: {
      mode: AuthMode;
      /** '' = none. */
      keyFile: string;
      /** Name of the environment variable holding keys; '' = none. */
      keyEnv: string;
      keyId: number;
      freshnessWindowMs: number;
      /** Read from keyFile/keyEnv at load time (not a key of its own; never rendered). null = no source. */
      keys: AuthKeyring | null;
    };
    /** Lease timing for the redis and etcd backends. */
    lease: { ttlMs: number; renewDeadlineMs: number; retryPeriodMs: number };
    redis: { url: string; keyPrefix: string };
    etcd: { endpoints: string; prefix: string };
    /** '' = resolved at start (src/runtime/state-dir.ts). */
    stateDir: string;
  };
  status: {
    enabled: boolean;
    host: string;
    port: number;
    /** '' = none. */
    tokenFile: string;
    /** Name of the environment variable holding the token; '' = none. */
    tokenEnv: string;
    /** Read from tokenFile/tokenEnv at load time (not a key of its own; never rendered). null = no token. */
    token: string | null;
  };
  log: { level: LogLevel };
  /** Commands run on role changes (keepalived's notify_master/backup/fault); '' = none. */
  notify: { primary: string; standby: string; fault: string; stop: string; timeoutMs: number };
}

/** Upper bound for every duration, in seconds. */
export const MAX_SECONDS = 3600;
// Identity rules (node id, IPv4, int32 priority) are shared with the codec and rank.ts.
export { MAX_NODE_ID_BYTES, INT32_MIN, INT32_MAX, parseIPv4 };
/** Prefix of environment overrides; `HASTATE_CONFIG` is reserved for the CLI. */
export const ENV_PREFIX = 'HASTATE_';
export const ENV_RESERVED: readonly string[] = ['HASTATE_CONFIG'];

export type CheckResult = { ok: true; value: unknown } | { ok: false; message: string };
/** How an environment variable's text is turned into a value before the check runs. */
export type EnvKind = 'number' | 'boolean' | 'string';

export interface KeySpec {
  /** Dotted snake_case path as users write it. */
  path: string;
  /** Path of the value in `HastateConfig` (camelCase; `_seconds` keys become `...Ms`). */
  outPath: readonly string[];
  env: string;
  envKind: EnvKind;
  type: string;
  /** Default in the user's form (seconds, snake_case); undefined = computed at load time. */
  defaultValue: unknown;
  defaultDoc: string;
  doc: string;
  /** Validates a value in the user's form and converts it to the output form. */
  check: (v: unknown) => CheckResult;
  /** Converts an output value back to the user's form (for rendering). */
  render: (v: unknown) => unknown;
}

/** Keys whose values are mappings of further keys. */
export const SECTIONS: readonly string[] = ['ha', 'ha.heartbeat', 'ha.auth', 'ha.lease', 'ha.redis', 'ha.etcd', 'status', 'log', 'notify'];

// ---------------------------------------------------------------- describing values

const MAX_SHOWN = 40;

/** Short human description of a value found in the config, e.g. `string "3"`. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value (null)';
  if (typeof v === 'string') return `string ${quote(v)}`;
  if (typeof v === 'number') return `number ${String(v)}`;
  if (typeof v === 'boolean') return `boolean ${String(v)}`;
  if (typeof v === 'bigint') return `integer ${String(v)}`;
  if (Array.isArray(v)) return 'a sequence';
  if (v instanceof Uint8Array) return 'binary data';
  if (v instanceof Date) return 'a timestamp';
  return 'a mapping';
}

/** JSON-quoted, truncated, safe to print on one line. */
export function quote(s: string): string {
  const cut = s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}...` : s;
  return JSON.stringify(cut);
}

// ---------------------------------------------------------------- checks

const ok = (value: unknown): CheckResult => ({ ok: true, value });
const bad = (message: string): CheckResult => ({ ok: false, message });
const identity = (v: unknown): unknown => v;

function booleanCheck(v: unknown): CheckResult {
  return typeof v === 'boolean' ? ok(v) : bad(`expected boolean (true or false), found ${describeValue(v)}`);
}

function integerCheck(min: number, max: number, what: string) {
  return (v: unknown): CheckResult => {
    if (typeof v !== 'number') return bad(`expected integer, found ${describeValue(v)}`);
    if (!Number.isInteger(v)) return bad(`expected integer, found ${describeValue(v)}`);
    if (v < min || v > max) return bad(`must be ${what} (${min}..${max}), found ${v}`);
    return ok(v + 0); // normalise -0
  };
}

function secondsCheck(v: unknown): CheckResult {
  if (typeof v !== 'number') return bad(`expected a number of seconds, found ${describeValue(v)}`);
  if (!Number.isFinite(v)) return bad(`must be a finite number of seconds, found ${v}`);
  if (v <= 0) return bad(`must be greater than 0 seconds, found ${v}`);
  if (v > MAX_SECONDS) return bad(`must be at most ${MAX_SECONDS} seconds, found ${v}`);
  const ms = Math.round(v * 1000);
  if (ms < 1) return bad(`must be at least 0.001 seconds (1 ms), found ${v}`);
  return ok(ms);
}

function enumCheck(allowed: readonly string[]) {
  return (v: unknown): CheckResult =>
    typeof v === 'string' && allowed.includes(v)
      ? ok(v)
      : bad(`must be one of: ${allowed.join(', ')}; found ${describeValue(v)}`);
}

function stringOr(v: unknown, hint = ''): CheckResult | undefined {
  if (typeof v === 'string') return undefined;
  const quoted = typeof v === 'number' || typeof v === 'boolean' ? ` (quote it if you meant the text "${String(v)}")` : '';
  return bad(`expected string${hint}, found ${describeValue(v)}${quoted}`);
}

function multicastCheck(v: unknown): CheckResult {
  const notString = stringOr(v, ' (IPv4 multicast address)');
  if (notString) return notString;
  const o = parseIPv4(v as string);
  if (!o) return bad(`${quote(v as string)} is not a dotted-quad IPv4 address`);
  if (o[0] < 224 || o[0] > 239) {
    return bad(`${quote(v as string)} is not an IPv4 multicast address (224.0.0.0/4: 224.0.0.0 - 239.255.255.255)`);
  }
  return ok(v);
}

function interfaceCheck(v: unknown): CheckResult {
  const notString = stringOr(v, ' (IPv4 address)');
  if (notString) return notString;
  const o = parseIPv4(v as string);
  if (!o) return bad(`${quote(v as string)} is not a dotted-quad IPv4 address (give the NIC's address, not its name)`);
  if (o[0] === 0 || o[0] >= 224) return bad(`${quote(v as string)} is not a unicast address of a network interface`);
  return ok(v);
}

function hostCheck(v: unknown): CheckResult {
  const notString = stringOr(v, ' (IPv4 address or "localhost")');
  if (notString) return notString;
  if (v === 'localhost' || parseIPv4(v as string)) return ok(v);
  return bad(`${quote(v as string)} is not a dotted-quad IPv4 address or "localhost"`);
}

/** Upper bound for a notify command, in characters. */
export const MAX_COMMAND_CHARS = 4096;

function commandCheck(v: unknown): CheckResult {
  const notString = stringOr(v, ' (a shell command, or "" for none)');
  if (notString) return notString;
  const s = v as string;
  if (s.length > MAX_COMMAND_CHARS) return bad(`must be at most ${MAX_COMMAND_CHARS} characters, found ${s.length}`);
  if (s.includes('\u0000')) return bad('must not contain NUL');
  return ok(s);
}

/** A string that parses as a URL with one of `schemes` (without the colon), or the problem. */
function schemeUrl(v: unknown, schemes: readonly [string, string]): URL | CheckResult {
  const notString = stringOr(v, ` (${schemes[0]}:// or ${schemes[1]}:// URL)`);
  if (notString) return notString;
  let url: URL;
  try {
    url = new URL(v as string);
  } catch {
    return bad(`${quote(v as string)} is not a URL`);
  }
  if (!schemes.some((p) => url.protocol === `${p}:`)) return bad(`${quote(v as string)} must use ${schemes.join(' or ')}, found ${url.protocol}`);
  if (url.hostname === '') return bad(`${quote(v as string)} has no host`);
  return url;
}

function httpUrlCheck(v: unknown): CheckResult {
  const url = schemeUrl(v, ['http', 'https']);
  if (!(url instanceof URL)) return url;
  if (url.search !== '' || url.hash !== '') return bad(`${quote(v as string)} must not have a query or fragment (it is a base URL)`);
  return ok((v as string).replace(/\/+$/, ''));
}

function redisUrlCheck(v: unknown): CheckResult {
  const url = schemeUrl(v, ['redis', 'rediss']);
  return url instanceof URL ? ok(v) : url;
}

/** Comma-separated http(s) base URLs of etcd members. */
function endpointsCheck(v: unknown): CheckResult {
  const notString = stringOr(v, ' (comma-separated http:// URLs)');
  if (notString) return notString;
  const parts = (v as string).split(',').map((s) => s.trim());
  if (parts.length > 16) return bad(`must list at most 16 endpoints, found ${parts.length}`);
  const out: string[] = [];
  for (const [i, part] of parts.entries()) {
    const r = httpUrlCheck(part);
    if (!r.ok) return bad(`endpoint ${i + 1}: ${r.message}`);
    out.push(r.value as string);
  }
  return ok(out.join(','));
}

/** A key prefix for Redis keys or etcd keys: printable, no spaces, bounded. */
function prefixCheck(v: unknown): CheckResult {
  const notString = stringOr(v);
  if (notString) return notString;
  const s = v as string;
  if (!/^[\x21-\x7e]{1,128}$/.test(s)) return bad(`${quote(s)} must be 1-128 printable ASCII characters without spaces`);
  return ok(s);
}

/** Upper bound for a file path, in characters. */
export const MAX_PATH_CHARS = 4096;

function pathCheck(v: unknown): CheckResult {
  const notString = stringOr(v, ' (a file path, or "" for none)');
  if (notString) return notString;
  const s = v as string;
  if (s.length > MAX_PATH_CHARS) return bad(`must be at most ${MAX_PATH_CHARS} characters, found ${s.length}`);
  if (s.includes('\u0000')) return bad('must not contain NUL');
  return ok(s);
}

function envNameCheck(v: unknown): CheckResult {
  const notString = stringOr(v, ' (an environment variable name, or "" for none)');
  if (notString) return notString;
  const s = v as string;
  if (s === '') return ok(s);
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(s)) return bad(`${quote(s)} is not an environment variable name (letters, digits, _; at most 128)`);
  // HASTATE_* variables are configuration overrides; an unknown one is refused as a typo.
  if (s.startsWith(ENV_PREFIX)) return bad(`must not start with ${ENV_PREFIX} (reserved for configuration overrides), found ${quote(s)}`);
  return ok(s);
}

function nodeIdCheck(v: unknown): CheckResult {
  const notString = stringOr(v);
  if (notString) return notString;
  const s = v as string;
  const p = nodeIdProblem(s);
  if (p?.kind === 'empty') return bad('must not be empty');
  if (p?.kind === 'control') return bad(`must not contain NUL or control characters, found ${codePointName(p.codePoint)} at index ${p.index}`);
  if (p?.kind === 'surrogate') return bad('must be valid Unicode (found an unpaired surrogate)');
  if (p?.kind === 'too-long') return bad(`must be at most ${MAX_NODE_ID_BYTES} UTF-8 bytes, found ${p.bytes} bytes`);
  return ok(s);
}

// ---------------------------------------------------------------- the table

/** One key as declared (here, or by an application through app-keys.ts). */
export interface Entry {
  path: string;
  type: string;
  envKind: EnvKind;
  defaultValue: unknown;
  defaultDoc?: string;
  doc: string;
  check: (v: unknown) => CheckResult;
  seconds?: boolean;
}

const seconds = (path: string, defaultValue: number, doc: string): Entry => ({
  path,
  type: `number of seconds (0 < s <= ${MAX_SECONDS}, fractions allowed)`,
  envKind: 'number',
  defaultValue,
  doc,
  check: secondsCheck,
  seconds: true,
});

const command = (path: string, doc: string): Entry => ({
  path,
  type: `shell command (at most ${MAX_COMMAND_CHARS} characters; "" = none)`,
  envKind: 'string',
  defaultValue: '',
  defaultDoc: '"" (none)',
  doc,
  check: commandCheck,
});

const ENTRIES: readonly Entry[] = [
  { path: 'ha.enabled', type: 'boolean', envKind: 'boolean', defaultValue: true, doc: 'Take part in primary/standby election at all.', check: booleanCheck },
  { path: 'ha.backend', type: BACKENDS.join(' | '), envKind: 'string', defaultValue: 'multicast', doc: 'How nodes agree on the primary: multicast heartbeats on one LAN; a lease in Redis or etcd; or single (always primary, one node). See docs/backends.md.', check: enumCheck(BACKENDS) },
  { path: 'ha.multicast_group', type: 'IPv4 multicast address', envKind: 'string', defaultValue: '224.100.200.16', doc: 'Multicast group that nodes of one cluster share.', check: multicastCheck },
  { path: 'ha.interface', type: 'IPv4 address', envKind: 'string', defaultValue: undefined, defaultDoc: 'first non-internal IPv4 address of the host', doc: 'IPv4 address of the network interface used for multicast.', check: interfaceCheck },
  { path: 'ha.node_id', type: `string (1..${MAX_NODE_ID_BYTES} UTF-8 bytes, no control characters)`, envKind: 'string', defaultValue: undefined, defaultDoc: 'the value of ha.interface', doc: 'Unique name of this node within the cluster.', check: nodeIdCheck },
  { path: 'ha.priority', type: `integer (int32, above ${LEAVING_PRIORITY})`, envKind: 'number', defaultValue: 0, doc: 'Election priority; the larger value wins. The lowest int32 is reserved: it marks a primary announcing that it is leaving.', check: integerCheck(LEAVING_PRIORITY + 1, INT32_MAX, `a 32-bit signed integer above the reserved ${LEAVING_PRIORITY}`) },
  { path: 'ha.role', type: ROLES.join(' | '), envKind: 'string', defaultValue: 'auto', doc: 'Role to take: elect automatically, or force primary/standby.', check: enumCheck(ROLES) },
  { path: 'ha.preempt', type: 'boolean', envKind: 'boolean', defaultValue: false, doc: 'Take over from a running primary with a lower priority.', check: booleanCheck },
  seconds('ha.election_window_seconds', 2, 'How long to collect announcements before deciding an election.'),
  { path: 'ha.heartbeat.port', type: 'integer (1..65535)', envKind: 'number', defaultValue: 9999, doc: 'UDP port for multicast heartbeats.', check: integerCheck(1, 65535, 'a port number') },
  seconds('ha.heartbeat.interval_seconds', 3, 'Time between heartbeats sent by the primary.'),
  seconds('ha.heartbeat.timeout_seconds', 9, 'Silence after which the primary is presumed dead; must be greater than interval_seconds.'),
  { path: 'ha.auth.mode', type: AUTH_MODES.join(' | '), envKind: 'string', defaultValue: 'off', doc: 'Authenticated heartbeats: off = send untagged (tagged ones are accepted unchecked); accept-both = send tagged, accept untagged and verified tagged; enforce = send tagged, accept only verified tagged. See docs/security.md.', check: enumCheck(AUTH_MODES) },
  { path: 'ha.auth.key_file', type: `file path ("" = none)`, envKind: 'string', defaultValue: '', defaultDoc: '"" (none)', doc: 'File holding the shared keys as `id:secret` entries (separated by newlines, spaces or commas; `#` comment lines; secret 16..256 bytes). Read at load time; never logged.', check: pathCheck },
  { path: 'ha.auth.key_env', type: 'environment variable name ("" = none)', envKind: 'string', defaultValue: '', defaultDoc: '"" (none)', doc: 'Environment variable holding the shared keys in the same `id:secret` format (entries separated by spaces, commas or newlines). Keys from key_file and key_env are merged.', check: envNameCheck },
  { path: 'ha.auth.key_id', type: `integer (0..${MAX_KEY_ID})`, envKind: 'number', defaultValue: 1, doc: 'Id of the key this node signs with; every key in the sources is accepted, which is how a rotation runs.', check: integerCheck(0, MAX_KEY_ID, 'a key id') },
  seconds('ha.auth.freshness_window_seconds', 30, 'Tagged datagrams whose stamp is further than this from our wall clock are dropped before the tag is computed (needs clocks in sync, e.g. NTP).'),
  seconds('ha.lease.ttl_seconds', 15, 'redis/etcd: a lease not renewed for this long expires and another node may take it (etcd: whole seconds).'),
  seconds('ha.lease.renew_deadline_seconds', 10, 'redis/etcd: a primary whose last successful renewal was sent longer ago than this steps down; must be less than ttl_seconds.'),
  seconds('ha.lease.retry_period_seconds', 2, 'redis/etcd: time between renewals, and between campaigns of the other nodes; must be less than renew_deadline_seconds.'),
  { path: 'ha.redis.url', type: 'redis:// or rediss:// URL', envKind: 'string', defaultValue: 'redis://127.0.0.1:6379', doc: 'The Redis server holding the lease (backend redis).', check: redisUrlCheck },
  { path: 'ha.redis.key_prefix', type: 'string (1..128 printable ASCII, no spaces)', envKind: 'string', defaultValue: 'hastate', doc: 'Prefix of the lease, token, leader-info and worker-registry keys; one per cluster.', check: prefixCheck },
  { path: 'ha.etcd.endpoints', type: 'comma-separated http(s) URLs (at most 16)', envKind: 'string', defaultValue: 'http://127.0.0.1:2379', doc: 'etcd members to talk to (backend etcd), tried in order.', check: endpointsCheck },
  { path: 'ha.etcd.prefix', type: 'string (1..128 printable ASCII, no spaces)', envKind: 'string', defaultValue: '/hastate/election', doc: 'Election prefix in etcd; one per cluster.', check: prefixCheck },
  { path: 'ha.state_dir', type: 'directory path ("" = the default)', envKind: 'string', defaultValue: '', defaultDoc: '$STATE_DIRECTORY (systemd StateDirectory=), else /var/lib/hastate as root, else $XDG_STATE_HOME/hastate, else ~/.local/state/hastate', doc: 'Directory of the durable epoch file (epoch-<node id>.json), which keeps the epoch from going back across restarts. See docs/durable-epoch.md.', check: pathCheck },
  { path: 'status.enabled', type: 'boolean', envKind: 'boolean', defaultValue: true, doc: 'Serve the HTTP status endpoint.', check: booleanCheck },
  { path: 'status.host', type: 'IPv4 address or "localhost"', envKind: 'string', defaultValue: '127.0.0.1', doc: 'Address the status endpoint listens on.', check: hostCheck },
  { path: 'status.port', type: 'integer (0..65535, 0 = any free port)', envKind: 'number', defaultValue: 9990, doc: 'TCP port of the status endpoint.', check: integerCheck(0, 65535, 'a port number') },
  { path: 'status.token_file', type: 'file path ("" = none)', envKind: 'string', defaultValue: '', defaultDoc: '"" (none)', doc: 'File holding the bearer token that POST /resign requires (16..256 visible ASCII characters; a final newline is ignored). Without a token, POST /resign is served only to loopback peers. Read at load time; never logged. See docs/http-fencing.md.', check: pathCheck },
  { path: 'status.token_env', type: 'environment variable name ("" = none)', envKind: 'string', defaultValue: '', defaultDoc: '"" (none)', doc: 'Environment variable holding the bearer token instead of status.token_file (set one of them, not both).', check: envNameCheck },
  { path: 'log.level', type: LOG_LEVELS.join(' | '), envKind: 'string', defaultValue: 'info', doc: 'Minimum level of log records to emit.', check: enumCheck(LOG_LEVELS) },
  command('notify.primary', 'Shell command run when this node becomes primary ($1 role, $2 epoch, $3 node id; HASTATE_* in its environment).'),
  command('notify.standby', 'Shell command run when this node becomes standby.'),
  command('notify.fault', 'Shell command run when this node stops taking part (role unknown): its transport or its coordinator (redis, etcd) is lost, its epoch cannot be made durable, or another live process uses its node id.'),
  command('notify.stop', 'Shell command run once when the node stops (SIGTERM/SIGINT), after its services have stopped ($1 "stopped", $2 last epoch, $3 node id; HASTATE_FROM_ROLE = the role it stopped in). Bounded by notify.timeout_seconds, at most 5 s.'),
  seconds('notify.timeout_seconds', 10, 'A notify command still running after this long is killed (SIGTERM, then SIGKILL 1 s later) and logged as failed.'),
];

function outPathOf(path: string, isSeconds: boolean): string[] {
  return path.split('.').map((seg, i, all) => {
    let camel = seg.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (i === all.length - 1 && isSeconds) camel = camel.replace(/Seconds$/, 'Ms');
    return camel;
  });
}

export const envNameOf = (path: string): string => ENV_PREFIX + path.replace(/\./g, '_').toUpperCase();

export const KEY_SPECS: readonly KeySpec[] = ENTRIES.map((e) => keySpecOf(e));

export const KEY_BY_PATH: ReadonlyMap<string, KeySpec> = new Map(KEY_SPECS.map((k) => [k.path, k]));
export const KEY_BY_ENV: ReadonlyMap<string, KeySpec> = new Map(KEY_SPECS.map((k) => [k.env, k]));

/** Public, documentation-oriented view of the key table (for README/docs generation). */
export const CONFIG_KEYS: readonly { path: string; env: string; type: string; default: string; doc: string }[] =
  KEY_SPECS.map((k) => ({ path: k.path, env: k.env, type: k.type, default: k.defaultDoc, doc: k.doc }));

// ---------------------------------------------------------------- suggestions

/** Levenshtein distance, giving up (returning limit + 1) for very different lengths. */
export function editDistance(a: string, b: string, limit = 2): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * Closest candidate within edit distance 2 (and less than the name's length); failing that, when `sep` is given, a candidate whose
 * last segment equals the name's (a key written in the wrong section).
 */
export function suggest(name: string, candidates: readonly string[], sep?: string): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestD && d < name.length) [best, bestD] = [c, d];
  }
  if (best !== undefined || sep === undefined) return best;
  const last = name.split(sep).pop()!;
  return candidates.find((c) => c !== name && c.split(sep).pop() === last);
}

export const KNOWN_PATHS: readonly string[] = [...SECTIONS, ...KEY_SPECS.map((k) => k.path)];

// ---------------------------------------------------------------- shared with application keys (app-keys.ts)

/** A declared entry as the loader uses it; its environment variable is `envPrefix` + the path in upper snake case. */
export function keySpecOf(e: Entry, envPrefix = ENV_PREFIX): KeySpec {
  return {
    path: e.path,
    outPath: outPathOf(e.path, e.seconds === true),
    env: envPrefix + envNameOf(e.path).slice(ENV_PREFIX.length),
    envKind: e.envKind,
    type: e.type,
    defaultValue: e.defaultValue,
    defaultDoc: e.defaultDoc ?? String(e.defaultValue),
    doc: e.doc,
    check: e.check,
    render: e.seconds ? (v: unknown) => (v as number) / 1000 : identity,
  };
}

/** The value checks behind hastate's own keys, so that application keys are checked and worded alike. */
export const CHECKS = {
  boolean: booleanCheck,
  integer: integerCheck,
  seconds: secondsCheck,
  oneOf: enumCheck,
  httpUrl: httpUrlCheck,
  host: hostCheck,
  ipv4: interfaceCheck,
  multicastGroup: multicastCheck,
  filePath: pathCheck,
  command: commandCheck,
  stringOr,
} as const;
