/**
 * hastate's own checks across keys, run once every key has its value (file, environment,
 * default): the order of the timing keys, what the lease backends allow, and the secrets named
 * by ha.auth and status.token_*, read now so that a bad key or token stops the node before it
 * starts. Each problem is reported at the key that needs changing.
 */
import { AuthKeyring } from '../transport/auth.ts';
import { readKeyEnv, readKeyFile } from './auth-keys.ts';
import type { Collector } from './collector.ts';
import { resolveChecks, validKeys, type CrossCheck } from './cross-checks.ts';
import { HASTATE_KEYS } from './key-set.ts';
import { readTokenEnv, readTokenFile } from './status-token.ts';

/** hastate's own relations between keys (an application's come with its appKeys). */
export const HASTATE_CHECKS = resolveChecks([
  { key: 'ha.heartbeat.timeout_seconds', greaterThan: 'ha.heartbeat.interval_seconds' },
  { key: 'ha.lease.renew_deadline_seconds', lessThan: 'ha.lease.ttl_seconds', why: 'the primary must step down before its lease can pass to another node' },
  { key: 'ha.lease.retry_period_seconds', lessThan: 'ha.lease.renew_deadline_seconds', why: 'at least one renewal must fit before the deadline' },
] satisfies CrossCheck[], (path) => HASTATE_KEYS.byPath.get(path)).checks;

/** Lease timing (redis/etcd) beyond the order of its durations, one problem each. */
export function leaseChecks(c: Collector): void {
  const ttl = 'ha.lease.ttl_seconds';
  const backend = c.values.get('ha.backend');
  const ttlSeconds = (c.values.get(ttl) as number) / 1000;
  if (backend === 'etcd' && validKeys(c, ttl) && !Number.isInteger(ttlSeconds)) {
    c.problem(c.origins.get(ttl)!, `must be a whole number of seconds with ha.backend etcd (etcd leases have second granularity), found ${ttlSeconds}`);
  }
  if ((backend === 'redis' || backend === 'etcd') && c.values.get('ha.role') === 'primary') {
    c.problem(c.origins.get('ha.role')!, `primary cannot be forced with ha.backend ${String(backend)}: the lease decides; use auto or standby`);
  }
}

/**
 * ha.auth: reads the keys (so a missing or short key stops the node before it starts) and
 * checks the keys against mode and key_id; one problem each, at the key that needs changing.
 */
export function authChecks(c: Collector, env: Record<string, string | undefined>): AuthKeyring | null {
  const paths = ['ha.auth.mode', 'ha.auth.key_file', 'ha.auth.key_env', 'ha.auth.key_id'];
  if (paths.some((p) => c.invalid.has(p) || !c.values.has(p))) return null;
  const mode = c.values.get('ha.auth.mode') as string;
  const file = c.values.get('ha.auth.key_file') as string;
  const name = c.values.get('ha.auth.key_env') as string;
  const keyId = c.values.get('ha.auth.key_id') as number;
  if (file === '' && name === '') {
    if (mode !== 'off') c.problem(c.origins.get('ha.auth.mode')!, `mode ${mode} needs a shared key: set ha.auth.key_file or ha.auth.key_env`);
    return null;
  }
  const keys = new Map<number, Buffer>();
  const sources: [string, string, ReturnType<typeof readKeyFile>][] = [];
  if (file !== '') sources.push(['ha.auth.key_file', file, readKeyFile(file)]);
  if (name !== '') sources.push(['ha.auth.key_env', `$${name}`, readKeyEnv(name, env)]);
  let failed = false;
  for (const [path, label, result] of sources) {
    if (!result.ok) {
      c.problem(c.origins.get(path)!, result.message);
      failed = true;
      continue;
    }
    for (const [id, secret] of result.keys) {
      if (keys.has(id) && !keys.get(id)!.equals(secret)) {
        c.problem(c.origins.get(path)!, `key id ${id} in ${label} differs from key id ${id} in ha.auth.key_file`);
        failed = true;
      }
      keys.set(id, secret);
    }
  }
  if (failed) return null;
  if (!keys.has(keyId)) {
    c.problem(c.origins.get('ha.auth.key_id')!, `no key with id ${keyId} in ${sources.map(([, label]) => label).join(' or ')} (ids found: ${[...keys.keys()].sort((a, b) => a - b).join(', ')})`);
    return null;
  }
  try {
    return new AuthKeyring(keys);
  } catch (err) {
    // The parsers enforce the same limits; this only guards against them drifting apart.
    c.problem(c.origins.get('ha.auth.key_id')!, (err as Error).message);
    return null;
  }
}

/** status.token_file / token_env: one source at most, read now so a bad token stops the node before it starts. */
export function statusTokenChecks(c: Collector, env: Record<string, string | undefined>): string | null {
  const fileKey = 'status.token_file';
  const envKey = 'status.token_env';
  if (!validKeys(c, fileKey, envKey)) return null;
  const file = c.values.get(fileKey) as string;
  const name = c.values.get(envKey) as string;
  if (file !== '' && name !== '') {
    c.problem(c.origins.get(envKey)!, `set only one of ${fileKey} and ${envKey}, found both`);
    return null;
  }
  if (file === '' && name === '') return null;
  const result = file !== '' ? readTokenFile(file) : readTokenEnv(name, env);
  if (!result.ok) {
    c.problem(c.origins.get(file !== '' ? fileKey : envKey)!, result.message);
    return null;
  }
  return result.token;
}
