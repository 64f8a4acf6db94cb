/**
 * Loading and validating the configuration: YAML (or JSON) file -> environment overrides ->
 * defaults -> cross-field checks. Every problem found is collected and reported together in
 * one ConfigError; nothing is coerced (a quoted "3" is a string, not a number).
 */
import { readFileSync, statSync } from 'node:fs';
import { networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Parser, stringify } from 'yaml';
import type { Document, Node as YamlNode, YAMLMap } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.ts';
import {
  ENV_PREFIX, ENV_RESERVED, KEY_BY_ENV, KEY_BY_PATH, KEY_SPECS, KNOWN_PATHS, SECTIONS,
  describeValue, quote, suggest, type HastateConfig, type KeySpec,
} from './schema.ts';
import { readKeyEnv, readKeyFile } from './auth-keys.ts';
import { readTokenEnv, readTokenFile } from './status-token.ts';
import { AuthKeyring } from '../transport/auth.ts';

export interface LoadOptions {
  /** Path of a YAML/JSON file; omitted -> defaults (and env) only. */
  file?: string;
  /** Environment to read `HASTATE_*` overrides from; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Source of the default `ha.interface`; default `os.networkInterfaces`. */
  networkInterfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

// Limits, so that no input can make loading slow, huge or crash the process.
/** 256 KiB: ~100x any real config; worst case parses (twice: depth pre-check + parseDocument) in ~1 s. */
export const MAX_FILE_BYTES = 256 * 1024;
/** Collections nested deeper than this are refused before the YAML composer (which recurses) sees them. */
export const MAX_NESTING = 64;
/** YAML errors beyond this many are summarised in one extra problem. */
export const MAX_YAML_ERRORS = 20;
/** Problems beyond this many (in discovery order) are summarised in one extra problem. */
export const MAX_PROBLEMS = 100;

interface Origin { source: string; key: string; line?: number; column?: number }

class Collector {
  readonly problems: ConfigProblem[] = [];
  /** Output-form values by snake_case path. */
  readonly values = new Map<string, unknown>();
  readonly origins = new Map<string, Origin>();
  /** Keys that were given a value that failed validation (no default is substituted). */
  readonly invalid = new Set<string>();
  /** False when the file could not be read or parsed: later stages would only add noise. */
  fileOk = true;
  dropped = 0;

  problem(at: Origin, message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ ...at, message });
    else this.dropped++;
  }

  set(spec: KeySpec, raw: unknown, at: Origin): void {
    const r = spec.check(raw);
    if (!r.ok) {
      this.invalid.add(spec.path);
      this.problem(at, r.message);
      return;
    }
    this.values.set(spec.path, r.value);
    this.origins.set(spec.path, at);
  }
}

export function loadConfig(opts: LoadOptions = {}): HastateConfig {
  const c = new Collector();
  if (opts.file !== undefined) {
    const text = readConfigFile(opts.file, c);
    if (text !== undefined) readYaml(text, opts.file, c);
  }
  return finish(c, opts);
}

export function parseConfigText(text: string, source: string, opts: Omit<LoadOptions, 'file'> = {}): HastateConfig {
  const c = new Collector();
  readYaml(text, source, c);
  return finish(c, opts);
}

/** The effective configuration in the user's form (snake_case keys, seconds), as YAML. */
export function renderEffectiveConfig(config: HastateConfig): string {
  const out: Record<string, unknown> = {};
  for (const spec of KEY_SPECS) {
    let v: unknown = config;
    for (const seg of spec.outPath) v = (v as Record<string, unknown>)[seg];
    setPath(out, spec.path.split('.'), spec.render(v));
  }
  return stringify(out);
}

// ---------------------------------------------------------------- file

function readConfigFile(file: string, c: Collector): string | undefined {
  const at = { source: file, key: '(file)' };
  c.fileOk = false;
  let buf: Buffer;
  try {
    const size = statSync(file).size;
    if (size > MAX_FILE_BYTES) {
      c.problem(at, `file too large (${size} bytes; the limit is ${MAX_FILE_BYTES})`);
      return undefined;
    }
    buf = readFileSync(file);
  } catch (err) {
    c.problem(at, `cannot read file: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    c.fileOk = true;
    return text;
  } catch {
    c.problem(at, 'file is not valid UTF-8');
    return undefined;
  }
}

function readYaml(input: string, source: string, c: Collector): void {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const bytes = text.length > MAX_FILE_BYTES ? Buffer.byteLength(text, 'utf8') : 0;
  if (bytes > MAX_FILE_BYTES) {
    c.fileOk = false;
    c.problem({ source, key: '(file)' }, `file too large (${bytes} bytes; the limit is ${MAX_FILE_BYTES})`);
    return;
  }
  const lc = new LineCounter();
  const here = (offset: number | undefined, key: string): Origin => {
    if (offset === undefined) return { source, key };
    const p = lc.linePos(offset);
    return { source, key, line: p.line, column: p.col };
  };

  // The yaml composer recurses per nesting level; a stack overflow inside it is caught by the
  // library, but afterwards V8 may abort the whole process on a later parse. Refuse deep input first.
  const deep = tooDeepOffset(text, lc);
  if (deep !== undefined) {
    c.fileOk = false;
    c.problem(here(deep, '(yaml)'), `collections nested more than ${MAX_NESTING} levels deep`);
    return;
  }
  let doc: Document.Parsed;
  try {
    // (lineCounter now already holds every line start; parseDocument would add them again)
    doc = parseDocument(text, { lineCounter: new LineCounter(), prettyErrors: true, uniqueKeys: false });
  } catch (err) {
    c.fileOk = false;
    c.problem({ source, key: '(yaml)' }, `YAML parser failed: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  const yamlMessage = (e: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]] }, kind: string) => {
    const p = e.linePos?.[0];
    const msg = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    c.problem(p ? { source, key: '(yaml)', line: p.line, column: p.col } : { source, key: '(yaml)' }, `${kind}: ${msg}`);
  };
  doc.errors.slice(0, MAX_YAML_ERRORS).forEach((e) => yamlMessage(e, 'YAML syntax error'));
  if (doc.errors.length > MAX_YAML_ERRORS) {
    c.problem({ source, key: '(yaml)' }, `${doc.errors.length - MAX_YAML_ERRORS} more YAML syntax errors not shown`);
  }
  if (doc.errors.length > 0) {
    c.fileOk = false;
    return;
  }
  doc.warnings.slice(0, MAX_YAML_ERRORS).forEach((w) => yamlMessage(w, 'YAML warning'));

  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return; // empty file: all defaults
  if (!isMap(root)) {
    c.fileOk = false;
    c.problem(here(root.range?.[0], '(root)'), `top level must be a mapping (ha, status, log), found ${describeNode(root, doc)}`);
    return;
  }
  walkMap(root, '', doc, c, here);
}

/**
 * Offset of a collection nested deeper than MAX_NESTING, if any, found without recursion (the CST
 * parser is iterative). Documents are yielded complete, so `lc` then knows all lines up to there.
 */
function tooDeepOffset(text: string, lc: LineCounter): number | undefined {
  interface Tok { type: string; offset?: number; value?: unknown; items?: { key?: unknown; value?: unknown }[] }
  for (const top of new Parser(lc.addNewLine).parse(text)) {
    const stack: [Tok | undefined, number][] = [[top as Tok, 0]];
    while (stack.length > 0) {
      const [tok, depth] = stack.pop()!;
      if (!tok || typeof tok !== 'object') continue;
      if (tok.type === 'document') stack.push([tok.value as Tok | undefined, depth]);
      if (!Array.isArray(tok.items)) continue;
      if (depth >= MAX_NESTING) return tok.offset ?? 0;
      for (const it of tok.items) stack.push([it.key as Tok, depth + 1], [it.value as Tok, depth + 1]);
    }
  }
  return undefined;
}

function describeNode(node: unknown, doc: Document): string {
  return describeValue(toRaw(node, doc));
}

/** A node's value as the key checks see it: scalars as JS values, collections as [] / {}. */
function toRaw(node: unknown, doc: Document): unknown {
  const n = isAlias(node) ? node.resolve(doc) : node;
  if (n === null || n === undefined) return null;
  if (isScalar(n)) return n.value;
  if (isSeq(n)) return [];
  return {};
}

const keyLabel = (k: string): string => (/^[\w-]{1,64}$/.test(k) ? k : quote(k));

function walkMap(
  map: YAMLMap,
  prefix: string,
  doc: Document,
  c: Collector,
  here: (offset: number | undefined, key: string) => Origin,
): void {
  const seen = new Map<string, number | undefined>(); // key -> line of first occurrence
  const mapStart = map.range?.[0];
  for (const pair of map.items) {
    const keyNode = pair.key as YamlNode | null;
    const keyAt = keyNode?.range?.[0] ?? mapStart;
    const resolvedKey = isAlias(keyNode) ? keyNode.resolve(doc) : keyNode;
    const label = (k: string) => (prefix ? `${prefix}.${k}` : k);
    if (resolvedKey !== null && resolvedKey !== undefined && !isScalar(resolvedKey)) {
      c.problem(here(keyAt, label('(key)')), `keys must be plain strings, found ${describeNode(resolvedKey, doc)} as a key`);
      continue;
    }
    if (resolvedKey === undefined) {
      c.problem(here(keyAt, label('(key)')), `unresolved alias ${String(keyNode)}`);
      continue;
    }
    const k = String(resolvedKey?.value ?? 'null');
    const path = prefix ? `${prefix}.${k}` : k;
    const at = here(keyAt, label(keyLabel(k)));
    if (seen.has(k)) {
      const first = seen.get(k);
      c.problem(at, `duplicate key${first === undefined ? '' : ` (first defined at line ${first})`}`);
      continue;
    }
    seen.set(k, at.line);

    const valueNode = pair.value as YamlNode | null;
    const valueAt = here(valueNode?.range?.[0] ?? keyAt, at.key);
    if (isAlias(valueNode) && valueNode.resolve(doc) === undefined) {
      c.problem(valueAt, `unresolved alias ${String(valueNode)}`);
      continue;
    }
    const value = isAlias(valueNode) ? valueNode.resolve(doc) : valueNode;
    if (SECTIONS.includes(path)) {
      if (isMap(value)) walkMap(value, path, doc, c, here);
      else if (value !== null && !(isScalar(value) && value.value === null)) {
        c.problem(valueAt, `expected a mapping of ${path}.* keys, found ${describeNode(value, doc)}`);
      }
      continue;
    }
    const spec = KEY_BY_PATH.get(path);
    if (spec) {
      c.set(spec, toRaw(value, doc), valueAt);
      continue;
    }
    const hint = suggest(path, KNOWN_PATHS, '.');
    c.problem(at, `unknown key${hint ? `; did you mean ${hint}?` : ''}`);
  }
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

function applyEnv(env: Record<string, string | undefined>, c: Collector): void {
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    if (text === undefined || !name.startsWith(ENV_PREFIX) || ENV_RESERVED.includes(name)) continue;
    const at = { source: 'env', key: keyLabel(name) };
    const spec = KEY_BY_ENV.get(name);
    if (!spec) {
      const hint = suggest(name, [...KEY_BY_ENV.keys()]);
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

function applyDefaults(c: Collector, opts: Omit<LoadOptions, 'file'>): void {
  const unset = (path: string) => !c.values.has(path) && !c.invalid.has(path);
  for (const spec of KEY_SPECS) {
    if (spec.defaultValue !== undefined && unset(spec.path)) {
      c.set(spec, spec.defaultValue, { source: 'defaults', key: spec.path });
    }
  }
  const iface = KEY_BY_PATH.get('ha.interface')!;
  if (unset(iface.path)) {
    const found = firstExternalIPv4(opts.networkInterfaces ?? osNetworkInterfaces);
    if (typeof found === 'string') c.set(iface, found, { source: 'defaults', key: iface.path });
    else {
      c.invalid.add(iface.path);
      c.problem({ source: 'defaults', key: iface.path }, found.error);
    }
  }
  const nodeId = KEY_BY_PATH.get('ha.node_id')!;
  if (unset(nodeId.path) && c.values.has(iface.path)) {
    c.set(nodeId, c.values.get(iface.path), { source: 'defaults', key: nodeId.path });
  }
}

/** Both keys hold a value that passed its own check (so a relation between them means something). */
const validKeys = (c: Collector, ...paths: string[]): boolean => paths.every((p) => c.values.has(p) && !c.invalid.has(p));

/**
 * A duration key must be strictly less (or greater) than another: one problem, on `at`, naming
 * the other key and its value, and saying when the offending value is a default.
 */
function requireOrder(c: Collector, at: string, relation: 'less' | 'greater', other: string, why = ''): void {
  if (!validKeys(c, at, other)) return;
  const value = c.values.get(at) as number;
  const bound = c.values.get(other) as number;
  if (relation === 'less' ? value < bound : value > bound) return;
  const origin = c.origins.get(at)!;
  const found = origin.source === 'defaults' ? `the default ${value / 1000}` : String(value / 1000);
  c.problem(origin, `must be ${relation} than ${other} (${bound / 1000}), found ${found}${why === '' ? '' : `: ${why}`}`);
}

function crossChecks(c: Collector): void {
  requireOrder(c, 'ha.heartbeat.timeout_seconds', 'greater', 'ha.heartbeat.interval_seconds');
}

/** Lease timing (redis/etcd): retry period < renew deadline < TTL, one problem each. */
function leaseChecks(c: Collector): void {
  const ttl = 'ha.lease.ttl_seconds';
  const deadline = 'ha.lease.renew_deadline_seconds';
  requireOrder(c, deadline, 'less', ttl, 'the primary must step down before its lease can pass to another node');
  requireOrder(c, 'ha.lease.retry_period_seconds', 'less', deadline, 'at least one renewal must fit before the deadline');
  const backend = c.values.get('ha.backend');
  const ttlSeconds = (c.values.get(ttl) as number) / 1000;
  if (backend === 'etcd' && validKeys(c, ttl) && !Number.isInteger(ttlSeconds)) {
    c.problem(c.origins.get(ttl)!, `must be a whole number of seconds with ha.backend etcd (etcd leases have second granularity), found ${ttlSeconds}`);
  }
  if ((backend === 'redis' || backend === 'etcd') && c.values.get('ha.role') === 'primary') {
    c.problem(c.origins.get('ha.role')!, `primary cannot be forced with ha.backend ${String(backend)}: the lease decides; use auto or standby`);
  }
}

/** Reference application: checks between its keys, one problem each. */
function referenceChecks(c: Collector): void {
  const req = 'reference.monitor.request_port';
  const res = 'reference.monitor.response_port';
  if (validKeys(c, req, res) && c.values.get(req) === c.values.get(res)) {
    c.problem(c.origins.get(res)!, `must differ from ${req} (${String(c.values.get(req))}): requests and responses share the group`);
  }
  requireOrder(c, 'reference.stale_after_seconds', 'greater', 'reference.collect_interval_seconds', 'data would be stale between two refreshes');
}

/**
 * ha.auth: reads the keys (so a missing or short key stops the node before it starts) and
 * checks the keys against mode and key_id; one problem each, at the key that needs changing.
 */
function authChecks(c: Collector, env: Record<string, string | undefined>): AuthKeyring | null {
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
function statusTokenChecks(c: Collector, env: Record<string, string | undefined>): string | null {
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

function finish(c: Collector, opts: Omit<LoadOptions, 'file'>): HastateConfig {
  const env = opts.env ?? process.env;
  applyEnv(env, c);
  let keys: AuthKeyring | null = null;
  let token: string | null = null;
  if (c.fileOk) {
    applyDefaults(c, opts);
    crossChecks(c);
    leaseChecks(c);
    referenceChecks(c);
    keys = authChecks(c, env);
    token = statusTokenChecks(c, env);
  }
  if (c.problems.length > 0) {
    const more = c.dropped > 0 ? [{ source: 'config', key: '(more)', message: `${c.dropped} more problems not shown` }] : [];
    throw new ConfigError([...sortProblems(c.problems), ...more]);
  }
  const out: Record<string, unknown> = {};
  for (const spec of KEY_SPECS) setPath(out, spec.outPath, c.values.get(spec.path));
  setPath(out, ['ha', 'auth', 'keys'], keys);
  setPath(out, ['status', 'token'], token);
  return out as unknown as HastateConfig;
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
