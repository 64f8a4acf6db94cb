/**
 * The configuration key table: every key of hastate itself, its type, default, documentation
 * and validator (the checks are in checks.ts; the reference application declares its own keys,
 * src/reference/config.ts). Everything else (file parsing, env overrides, docs) is driven from
 * this table, so adding a key means adding one entry here and one field to `HastateConfig`.
 */
import { INT32_MAX, INT32_MIN, LEAVING_PRIORITY, MAX_NODE_ID_BYTES, parseIPv4 } from '../../machines/identity.ts';
import { AUTH_MODES, MAX_KEY_ID, type AuthKeyring, type AuthMode } from '../transport/auth.ts';
import { booleanCheck, commandCheck, endpointsCheck, enumCheck, envNameCheck, hostCheck, integerCheck, interfaceCheck, MAX_COMMAND_CHARS, MAX_SECONDS, multicastCheck, nodeIdCheck, pathCheck, prefixCheck, redisUrlCheck, secondsCheck, type CheckResult } from './checks.ts';

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

// The checks and suggestions were split out of this file; their names stay exported from here too.
export { CHECKS, describeValue, MAX_COMMAND_CHARS, MAX_PATH_CHARS, MAX_SECONDS, quote, type CheckResult } from './checks.ts';
export { editDistance, suggest } from './suggest.ts';
// Identity rules (node id, IPv4, int32 priority) are shared with the codec and rank.ts.
export { MAX_NODE_ID_BYTES, INT32_MIN, INT32_MAX, parseIPv4 };
/** Prefix of environment overrides; `HASTATE_CONFIG` is reserved for the CLI. */
export const ENV_PREFIX = 'HASTATE_';
export const ENV_RESERVED: readonly string[] = ['HASTATE_CONFIG'];

/** How an environment variable's text is turned into a value before the check runs. */
export type EnvKind = 'number' | 'boolean' | 'string';

const identity = (v: unknown): unknown => v;

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
  { path: 'ha.auth.key_env', type: 'environment variable name ("" = none)', envKind: 'string', defaultValue: '', defaultDoc: '"" (none)', doc: 'Environment variable holding the shared keys in the same `id:secret` format (entries separated by spaces, commas or newlines). Keys from key_file and key_env are merged.', check: envNameCheck(ENV_PREFIX) },
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
  { path: 'status.token_env', type: 'environment variable name ("" = none)', envKind: 'string', defaultValue: '', defaultDoc: '"" (none)', doc: 'Environment variable holding the bearer token instead of status.token_file (set one of them, not both).', check: envNameCheck(ENV_PREFIX) },
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

export const KNOWN_PATHS: readonly string[] = [...SECTIONS, ...KEY_SPECS.map((k) => k.path)];

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

