/**
 * Loading and validating the configuration: a YAML/JSON(C) file, a section of one, or an object
 * the application holds -> environment overrides -> defaults -> cross-field checks. Every problem
 * found is collected and reported together in one ConfigError; nothing is coerced (a quoted "3"
 * is a string, not a number).
 */
import { internalBug } from '../assert.ts';
import { networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { stringify } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.ts';
import { quote } from './checks.ts';
import { ENV_RESERVED, type HastateConfig, type KeySpec } from './schema.ts';
import { suggest } from './suggest.ts';
import type { AuthKeyring } from '../transport/auth.ts';
import { Collector, type Origin } from './collector.ts';
import { withAppKeys, HASTATE_TOP_LEVEL, type KeySet } from './key-set.ts';
import { runCheck } from './cross-checks.ts';
import { authChecks, HASTATE_CHECKS, leaseChecks, statusTokenChecks } from './hastate-checks.ts';
import type { AppKeys } from './app-keys.ts';
import { documentData, readConfigFile, readDocument } from './document.ts';
import { objectValue } from './views.ts';
import { keyLabel, walkConfig, type Placement } from './walk.ts';

export interface LoadOptions {
  /** Path of a YAML or JSON file (`.json`/`.jsonc` may hold comments); omitted -> defaults (and env) only. */
  file?: string;
  /** An already-parsed configuration (e.g. `{ ha: { priority: 5 } }`), instead of a file. */
  object?: unknown;
  /** Name given to `object` in problems (default "object"). */
  source?: string;
  /**
   * Where hastate's keys sit inside a larger file or object: a key (`'hastate'`), a dotted path
   * (`'services.hastate'`) or the keys as an array. Every other key of the document is left alone.
   */
  section?: string | readonly string[];
  /**
   * Keys next to hastate's (`ha`, `status`, ...) that belong to the application and are not read:
   * their names, or '*' for every name not within one letter of one of hastate's.
   */
  appSections?: readonly string[] | '*';
  /** An application's own keys (defineConfigKeys), validated and defaulted alongside hastate's. */
  appKeys?: AppKeys<unknown>;
  /** Environment to read `HASTATE_*` (and the application keys') overrides from; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Source of the default `ha.interface`; default `os.networkInterfaces`. */
  networkInterfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/** The loaded configuration: hastate's, plus the application's keys when it declared some. */
export type LoadedConfig<O> = O extends { appKeys: AppKeys<infer T> } ? HastateConfig & T : HastateConfig;

export { MAX_FILE_BYTES, MAX_NESTING, MAX_YAML_ERRORS } from './document.ts';
/** Bound on the keys of `section` (it names a place in a document, not data). */
export const MAX_SECTION_DEPTH = 16;
export { MAX_PROBLEMS } from './collector.ts';

export function loadConfig<O extends LoadOptions>(opts?: O): LoadedConfig<O>;
export function loadConfig(opts: LoadOptions = {}): HastateConfig {
  const c = new Collector();
  const keys = withAppKeys(opts.appKeys);
  const place = placement(opts, keys, c);
  if (opts.file !== undefined && opts.object !== undefined) {
    c.problem({ source: 'options', key: 'object' }, 'give either file or object, not both');
    c.fileOk = false;
  } else if (opts.file !== undefined && opts.source !== undefined) {
    c.problem({ source: 'options', key: 'source' }, 'names an object; a file is named by its path');
    c.fileOk = false;
  } else if (place !== undefined && opts.object !== undefined) {
    const source = opts.source ?? 'object';
    walkConfig(objectValue(opts.object), place, keys, c, (_offset, key) => ({ source, key }));
  } else if (place !== undefined && opts.file !== undefined) {
    const text = readConfigFile(opts.file, c);
    if (text !== undefined) readDocument(text, opts.file, place, keys, c);
  } else if (place !== undefined && place.section.length > 0) {
    c.problem({ source: 'options', key: 'section' }, 'a section needs a file or an object to look in');
  }
  if (place === undefined) c.fileOk = false;
  return finish(c, keys, opts);
}

export function parseConfigText<O extends Omit<LoadOptions, 'file' | 'object' | 'source'>>(text: string, source: string, opts?: O): LoadedConfig<O>;
export function parseConfigText(text: string, source: string, opts: Omit<LoadOptions, 'file' | 'object' | 'source'> = {}): HastateConfig {
  const c = new Collector();
  const keys = withAppKeys(opts.appKeys);
  const place = placement(opts, keys, c);
  if (place === undefined) c.fileOk = false;
  else readDocument(text, source, place, keys, c);
  return finish(c, keys, opts);
}

/**
 * A configuration file as plain data, read and parsed exactly as loadConfig reads it (size
 * limit, JSON with comments, YAML), for the parts an application reads itself (appSections).
 * Keys are not checked; a file that cannot be read or parsed throws a ConfigError.
 */
export function readConfigDocument(file: string): unknown {
  const c = new Collector();
  const text = readConfigFile(file, c);
  const data = text === undefined ? undefined : documentData(text, file, c);
  if (c.problems.length > 0) throw new ConfigError(sortProblems(c.problems));
  return data;
}

/** As readConfigDocument, for text already read; `source` decides the format (.json/.jsonc or YAML). */
export function parseConfigDocument(text: string, source: string): unknown {
  const c = new Collector();
  const data = documentData(text, source, c);
  if (c.problems.length > 0) throw new ConfigError(sortProblems(c.problems));
  return data;
}

/** The effective configuration in the user's form (snake_case keys, seconds), as YAML; with the application's keys when given. */
export function renderEffectiveConfig(config: HastateConfig, appKeys?: AppKeys<unknown>): string {
  const out: Record<string, unknown> = {};
  for (const spec of withAppKeys(appKeys).specs) {
    let v: unknown = config;
    for (const seg of spec.outPath) v = (v as Record<string, unknown>)[seg];
    setPath(out, spec.path.split('.'), spec.render(v));
  }
  return stringify(out);
}

/** The section and app-owned names, checked; undefined (with problems) when they are unusable. */
function placement(opts: LoadOptions, keys: KeySet, c: Collector): Placement | undefined {
  const problems = c.problems.length;
  const raw = opts.section;
  let section: string[] = [];
  if (typeof raw === 'string') section = raw.split('.');
  else if (Array.isArray(raw)) section = [...(raw as unknown[])] as string[];
  else if (raw !== undefined) c.problem({ source: 'options', key: 'section' }, `expected a key name or a dotted path, found ${typeof raw}`);
  if (section.length > MAX_SECTION_DEPTH) c.problem({ source: 'options', key: 'section' }, `at most ${MAX_SECTION_DEPTH} keys deep, found ${section.length}`);
  else if (!section.every((s) => typeof s === 'string' && s !== '')) c.problem({ source: 'options', key: 'section' }, `every key of the path must be a non-empty string, found ${quote(String(raw))}`);
  const apps = opts.appSections ?? [];
  if (apps !== '*' && !Array.isArray(apps)) {
    // A lone string would otherwise be taken letter by letter.
    c.problem({ source: 'options', key: 'appSections' }, `expected a list of names or "*", found ${typeof apps === 'string' ? quote(apps) : typeof apps}`);
  } else if (apps !== '*') {
    const owned = keys.knownPaths.filter((p) => !p.includes('.'));
    for (const name of apps as unknown[]) {
      if (typeof name !== 'string' || name === '') c.problem({ source: 'options', key: 'appSections' }, `expected non-empty names, found ${quote(String(name))}`);
      else if (HASTATE_TOP_LEVEL.includes(name)) c.problem({ source: 'options', key: 'appSections' }, `${keyLabel(name)} is one of hastate's keys, not the application's`);
      else if (owned.includes(name)) c.problem({ source: 'options', key: 'appSections' }, `${keyLabel(name)} holds keys declared in appKeys, which are validated, not left alone`);
    }
  }
  return c.problems.length === problems ? { section, appSections: apps } : undefined;
}

// ---------------------------------------------------------------- env, defaults, checks

const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseEnvText(spec: KeySpec, text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  if (spec.envKind === 'string') return { ok: true, value: text };
  if (spec.envKind === 'boolean') {
    if (text === 'true' || text === 'false') return { ok: true, value: text === 'true' };
    return { ok: false, message: `expected true or false, found ${quote(text)}` };
  }
  if (NUMBER_TEXT.test(text)) return { ok: true, value: Number(text) };
  return { ok: false, message: `expected a number, found ${quote(text)}` };
}

function applyEnv(env: Record<string, string | undefined>, keys: KeySet, c: Collector): void {
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    if (text === undefined || !keys.envPrefixes.some((p) => name.startsWith(p)) || ENV_RESERVED.includes(name)) continue;
    const at = { source: 'env', key: keyLabel(name) };
    const spec = keys.byEnv.get(name);
    if (!spec) {
      const hint = suggest(name, [...keys.byEnv.keys()]);
      c.problem(at, `unknown variable${hint ? `; did you mean ${hint}?` : ''}`);
      continue;
    }
    const parsed = parseEnvText(spec, text);
    if (parsed.ok) c.set(spec, parsed.value, at);
    else {
      c.invalid.add(spec.path);
      c.problem(at, parsed.message);
    }
  }
}

function firstExternalIPv4(list: () => NodeJS.Dict<NetworkInterfaceInfo[]>): string | { error: string } {
  let all: NodeJS.Dict<NetworkInterfaceInfo[]>;
  try {
    all = list();
  } catch (err) {
    return { error: `cannot list network interfaces (${err instanceof Error ? err.message : String(err)}); set ha.interface` };
  }
  for (const infos of Object.values(all)) {
    for (const info of infos ?? []) {
      // Node 18.0-18.3 reported family as a number.
      const v4 = info.family === 'IPv4' || (info.family as unknown) === 4;
      if (v4 && !info.internal) return info.address;
    }
  }
  return { error: 'no non-internal IPv4 interface found; set ha.interface' };
}

function applyDefaults(c: Collector, keys: KeySet, opts: LoadOptions): void {
  const unset = (path: string) => !c.values.has(path) && !c.invalid.has(path);
  for (const spec of keys.specs) {
    if (spec.defaultValue !== undefined && unset(spec.path)) {
      c.set(spec, spec.defaultValue, { source: 'defaults', key: spec.path });
    }
  }
  const iface = keys.byPath.get('ha.interface')!;
  if (unset(iface.path)) {
    const found = firstExternalIPv4(opts.networkInterfaces ?? osNetworkInterfaces);
    if (typeof found === 'string') c.set(iface, found, { source: 'defaults', key: iface.path });
    else {
      c.invalid.add(iface.path);
      c.problem({ source: 'defaults', key: iface.path }, found.error);
    }
  }
  const nodeId = keys.byPath.get('ha.node_id')!;
  if (unset(nodeId.path) && c.values.has(iface.path)) {
    c.set(nodeId, c.values.get(iface.path), { source: 'defaults', key: nodeId.path });
  }
}

function finish(c: Collector, keys: KeySet, opts: LoadOptions): HastateConfig {
  const env = opts.env ?? process.env;
  applyEnv(env, keys, c);
  let keyring: AuthKeyring | null = null;
  let token: string | null = null;
  if (c.fileOk) {
    applyDefaults(c, keys, opts);
    for (const check of HASTATE_CHECKS) runCheck(c, check);
    leaseChecks(c);
    for (const check of keys.appChecks) runCheck(c, check);
    keyring = authChecks(c, env);
    token = statusTokenChecks(c, env);
  }
  if (c.problems.length > 0) {
    const more = c.dropped > 0 ? [{ source: 'config', key: '(more)', message: `${c.dropped} more problems not shown` }] : [];
    throw new ConfigError([...sortProblems(c.problems), ...more]);
  }
  const out: Record<string, unknown> = {};
  for (const spec of keys.specs) setPath(out, spec.outPath, c.values.get(spec.path));
  setPath(out, ['ha', 'auth', 'keys'], keyring);
  setPath(out, ['status', 'token'], token);
  if (!hasConfigShape(out)) throw internalBug('the schema left a section of HastateConfig unset');
  return out;
}

const isSection = (o: unknown): o is Record<string, unknown> => typeof o === 'object' && o !== null && !Array.isArray(o);

/**
 * Every key was checked against its own spec and set at its path above; this confirms the
 * assembled object has each section HastateConfig names, so a schema that forgot one fails
 * here, loudly, rather than at its first use.
 */
function hasConfigShape(o: unknown): o is HastateConfig {
  if (!isSection(o) || !isSection(o.ha) || !isSection(o.status) || !isSection(o.log) || !isSection(o.notify)) return false;
  const ha = o.ha;
  return ['heartbeat', 'auth', 'lease', 'redis', 'etcd'].every((name) => isSection(ha[name]));
}

/** File problems in file order (unlocated ones last), then environment, then defaults; stable otherwise. */
function sortProblems(ps: ConfigProblem[]): ConfigProblem[] {
  const rank = (p: ConfigProblem) => (p.source === 'defaults' ? 2 : p.source === 'env' && p.line === undefined ? 1 : 0);
  const pos = (p: ConfigProblem) => (p.line === undefined ? Number.MAX_SAFE_INTEGER : p.line * 1e7 + (p.column ?? 0));
  return ps
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p) - rank(b.p) || pos(a.p) - pos(b.p) || a.i - b.i)
    .map(({ p }) => p);
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o = obj;
  for (const seg of path.slice(0, -1)) o = (o[seg] ??= {}) as Record<string, unknown>;
  o[path[path.length - 1]!] = value;
}
