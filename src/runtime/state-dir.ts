/**
 * Where a node keeps its durable state (the epoch file) when `ha.state_dir` is not set.
 * Resolved at start rather than at config load, because it depends on the environment the
 * process actually runs in (systemd sets STATE_DIRECTORY only for the service's processes).
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export interface StateDirEnv {
  env: Readonly<Record<string, string | undefined>>;
  /** Effective uid; null where the platform has none. */
  uid: number | null;
  home: string;
}

export const hostStateDirEnv = (): StateDirEnv => ({ env: process.env, uid: process.getuid?.() ?? null, home: homedir() });

/**
 * `ha.state_dir` when set; else systemd's `$STATE_DIRECTORY` (its first entry: systemd joins
 * several StateDirectory= with `:`); else `/var/lib/hastate` for root (root's home is not the
 * place for service state); else `$XDG_STATE_HOME/hastate`; else `~/.local/state/hastate`.
 */
export function resolveStateDir(configured: string, host: StateDirEnv = hostStateDirEnv()): string {
  if (configured !== '') return configured;
  const systemd = host.env.STATE_DIRECTORY?.split(':')[0];
  if (systemd) return systemd;
  if (host.uid === 0) return '/var/lib/hastate';
  const xdg = host.env.XDG_STATE_HOME;
  // The XDG spec says a relative value is invalid and must be ignored.
  if (xdg && isAbsolute(xdg)) return join(xdg, 'hastate');
  return join(host.home, '.local', 'state', 'hastate');
}
