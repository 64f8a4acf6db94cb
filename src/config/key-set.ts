/**
 * The set of keys one load validates: hastate's own table, plus any keys an application declared
 * with defineConfigKeys. The loader only ever looks keys up here, so an application's keys get the
 * same file, environment, default and error handling as hastate's.
 */
import { ENV_PREFIX, KEY_SPECS, SECTIONS, type KeySpec } from './schema.ts';
import type { ResolvedCheck } from './cross-checks.ts';

export interface KeySet {
  readonly specs: readonly KeySpec[];
  readonly byPath: ReadonlyMap<string, KeySpec>;
  readonly byEnv: ReadonlyMap<string, KeySpec>;
  /** Paths whose values are mappings of further keys. */
  readonly sections: ReadonlySet<string>;
  /** Sections and keys, for did-you-mean. */
  readonly knownPaths: readonly string[];
  /** Environment prefixes whose every variable must be a known key (`HASTATE_` and the applications'). */
  readonly envPrefixes: readonly string[];
  /** Relations between keys the application declared (hastate's own are the loader's). */
  readonly appChecks: readonly ResolvedCheck[];
}

export function makeKeySet(specs: readonly KeySpec[], sections: Iterable<string>, envPrefixes: readonly string[], appChecks: readonly ResolvedCheck[] = []): KeySet {
  const sectionSet = new Set(sections);
  return {
    specs,
    byPath: new Map(specs.map((k) => [k.path, k])),
    byEnv: new Map(specs.map((k) => [k.env, k])),
    sections: sectionSet,
    knownPaths: [...sectionSet, ...specs.map((k) => k.path)],
    envPrefixes,
    appChecks,
  };
}

export const HASTATE_KEYS: KeySet = makeKeySet(KEY_SPECS, SECTIONS, [ENV_PREFIX]);

/** The top-level names hastate owns (`ha`, `status`, ...). */
export const HASTATE_TOP_LEVEL: readonly string[] = [...new Set(KEY_SPECS.map((k) => k.path.split('.')[0]!))];

/** Hastate's keys plus an application's (already checked not to clash; see app-keys.ts). */
export function withAppKeys(app: { specs: readonly KeySpec[]; sections: readonly string[]; envPrefix: string; checks: readonly ResolvedCheck[] } | undefined): KeySet {
  if (app === undefined) return HASTATE_KEYS;
  const prefixes = HASTATE_KEYS.envPrefixes.includes(app.envPrefix) ? HASTATE_KEYS.envPrefixes : [...HASTATE_KEYS.envPrefixes, app.envPrefix];
  return makeKeySet([...HASTATE_KEYS.specs, ...app.specs], [...HASTATE_KEYS.sections, ...app.sections], prefixes, app.checks);
}
