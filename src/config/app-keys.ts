/**
 * Keys an application declares for its own part of the configuration file. They are written in
 * the same schema language as hastate's (type, default, environment variable, doc, check), and
 * loadConfig({ appKeys }) validates, defaults, overrides and reports them exactly like hastate's.
 */
import { HastateError } from '../errors.ts';
import { CHECKS, describeValue, MAX_COMMAND_CHARS, MAX_SECONDS, quote, type CheckResult } from './checks.ts';
import { keySpecOf, type EnvKind, type KeySpec } from './schema.ts';
import { HASTATE_KEYS, HASTATE_TOP_LEVEL } from './key-set.ts';
import { resolveChecks, type CrossCheck, type ResolvedCheck } from './cross-checks.ts';

/** How a key's value is written, checked and converted; `T` is the type the application receives. */
export interface KeyType<T> {
  /** Human description, shown in documentation tables. */
  readonly type: string;
  readonly envKind: EnvKind;
  readonly check: (v: unknown) => CheckResult;
  /** Seconds in the file, milliseconds in the result (the key's name must end in `_seconds`). */
  readonly seconds?: boolean;
  /** Type-level only. */
  readonly __value?: T;
}

const MAX_STRING_CHARS = 4096;

function stringCheck(maxChars: number, given: RegExp | undefined, patternDoc: string) {
  // Without g/y, test() keeps no state between calls (lastIndex), so every value is checked alike.
  const pattern = given && new RegExp(given.source, given.flags.replace(/[gy]/g, ''));
  return (v: unknown): CheckResult => {
    const notString = CHECKS.stringOr(v);
    if (notString) return notString;
    const s = v as string;
    if (s.length > maxChars) return { ok: false, message: `must be at most ${maxChars} characters, found ${s.length}` };
    if (s.includes('\u0000')) return { ok: false, message: 'must not contain NUL' };
    if (pattern && !pattern.test(s)) return { ok: false, message: `${quote(s)} is not ${patternDoc}` };
    return { ok: true, value: s };
  };
}

/** The types an application key may have; the same checks (and messages) as hastate's keys of that kind. */
export const keyTypes = {
  boolean: (): KeyType<boolean> => ({ type: 'boolean', envKind: 'boolean', check: CHECKS.boolean }),
  /** `what` names the value in the out-of-range message ("must be <what> (min..max)"). */
  integer: (min: number, max: number, opts: { what?: string } = {}): KeyType<number> => ({
    type: `integer (${min}..${max})`, envKind: 'number', check: CHECKS.integer(min, max, opts.what ?? 'an integer in range'),
  }),
  /** A port to send to or listen on; `zeroForAny` also allows 0, "any free port" (for a listener). */
  port: (opts: { zeroForAny?: boolean } = {}): KeyType<number> => opts.zeroForAny === true
    ? { type: 'integer (0..65535, 0 = any free port)', envKind: 'number', check: CHECKS.integer(0, 65535, 'a port number') }
    : { type: 'integer (1..65535)', envKind: 'number', check: CHECKS.integer(1, 65535, 'a port number') },
  seconds: (): KeyType<number> => ({
    type: `number of seconds (0 < s <= ${MAX_SECONDS}, fractions allowed)`, envKind: 'number', check: CHECKS.seconds, seconds: true,
  }),
  /** Any string up to `maxChars` (default 4096) characters, optionally matching `pattern` (described by `patternDoc`). */
  string: (opts: { maxChars?: number; pattern?: RegExp; patternDoc?: string } = {}): KeyType<string> => ({
    type: opts.patternDoc ?? `string (at most ${opts.maxChars ?? MAX_STRING_CHARS} characters)`,
    envKind: 'string',
    check: stringCheck(opts.maxChars ?? MAX_STRING_CHARS, opts.pattern, opts.patternDoc ?? `matching ${String(opts.pattern)}`),
  }),
  oneOf: <const V extends readonly string[]>(values: V): KeyType<V[number]> => ({ type: values.join(' | '), envKind: 'string', check: CHECKS.oneOf(values) }),
  httpUrl: (): KeyType<string> => ({ type: 'http(s) URL', envKind: 'string', check: CHECKS.httpUrl }),
  host: (): KeyType<string> => ({ type: 'IPv4 address or "localhost"', envKind: 'string', check: CHECKS.host }),
  ipv4: (): KeyType<string> => ({ type: 'IPv4 address', envKind: 'string', check: CHECKS.ipv4 }),
  multicastGroup: (): KeyType<string> => ({ type: 'IPv4 multicast address', envKind: 'string', check: CHECKS.multicastGroup }),
  filePath: (): KeyType<string> => ({ type: 'file path ("" = none)', envKind: 'string', check: CHECKS.filePath }),
  command: (): KeyType<string> => ({ type: `shell command (at most ${MAX_COMMAND_CHARS} characters; "" = none)`, envKind: 'string', check: CHECKS.command }),
};

export interface KeyDeclaration {
  type: KeyType<unknown>;
  /** In the file's form (seconds for a seconds key); checked when the keys are defined. */
  default: unknown;
  doc: string;
}

// Type-level: 'app.flush_interval_seconds' with a number becomes { app: { flushIntervalMs: number } }.
type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type Leaf<S extends string> = S extends `${infer X}_seconds` ? `${Camel<X>}Ms` : Camel<S>;
type Nest<P extends string, V> = P extends `${infer H}.${infer R}` ? { [K in Camel<H>]: Nest<R, V> } : { [K in Leaf<P>]: V };
type Intersect<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type ValueOf<D> = D extends { type: KeyType<infer T> } ? T : never;
export type AppConfigOf<D> = Intersect<{ [P in keyof D & string]: Nest<P, ValueOf<D[P]>> }[keyof D & string]>;

/** An application's declared keys; pass to loadConfig({ appKeys }). */
export interface AppKeys<T> {
  readonly envPrefix: string;
  readonly specs: readonly KeySpec[];
  /** Paths that hold further keys (`app`, `app.db`, ...). */
  readonly sections: readonly string[];
  /** Documentation view, as CONFIG_KEYS is for hastate's keys (render rows with configTableRow). */
  readonly table: readonly { path: string; env: string; type: string; default: string; doc: string }[];
  /** Relations between keys, checked after defaults (see cross-checks.ts). */
  readonly checks: readonly ResolvedCheck[];
  /** Type-level only: the shape the application's values take in the loaded configuration. */
  readonly __config?: T;
}

const SEGMENT = /^[a-z][a-z0-9]*(?:_[a-z][a-z0-9]*)*$/;
const ENV_PREFIX_FORM = /^[A-Z][A-Z0-9_]{0,30}_$/;
/** Bound on how many keys one application declares (each is looked up per file key and env variable). */
export const MAX_APP_KEYS = 1000;

/**
 * Declares an application's keys, e.g.
 * `defineConfigKeys({ envPrefix: 'MYAPP_', keys: { 'app.pool_size': { type: keyTypes.integer(1, 64), default: 8, doc: '...' } } })`.
 * `checks` relate two keys (the application's, or one of hastate's), e.g.
 * `{ key: 'app.timeout_seconds', lessThan: 'app.interval_seconds', why: '...' }`.
 * Throws a HastateError (HASTATE_CONFIG_SCHEMA) listing every mistake in the declaration.
 */
export function defineConfigKeys<const D extends Record<string, KeyDeclaration>>(decl: { envPrefix: string; keys: D; checks?: readonly CrossCheck[] }): AppKeys<AppConfigOf<D>> {
  const mistakes: string[] = [];
  const { envPrefix } = decl;
  if (!ENV_PREFIX_FORM.test(envPrefix)) mistakes.push(`envPrefix ${quote(String(envPrefix))} must be upper-case letters, digits and _, ending in _ (e.g. "MYAPP_")`);
  const paths = Object.keys(decl.keys);
  if (paths.length > MAX_APP_KEYS) mistakes.push(`at most ${MAX_APP_KEYS} keys, found ${paths.length}`);
  const specs: KeySpec[] = [];
  for (const path of paths.slice(0, MAX_APP_KEYS)) {
    const d = decl.keys[path]!;
    const problem = declarationProblem(path, d, paths);
    if (problem) {
      mistakes.push(`${quote(path)}: ${problem}`);
      continue;
    }
    const spec = keySpecOf({ path, type: d.type.type, envKind: d.type.envKind, defaultValue: d.default, defaultDoc: defaultDoc(d.default), doc: d.doc, check: d.type.check, seconds: d.type.seconds === true }, envPrefix);
    const inherited = spec.outPath.find((seg) => seg in Object.prototype);
    const clash = HASTATE_KEYS.byEnv.get(spec.env) ?? specs.find((s) => s.env === spec.env);
    // Results are plain objects: a part named like an Object.prototype member would write through it.
    if (inherited !== undefined) mistakes.push(`${quote(path)}: becomes ${inherited}, a name every JavaScript object already has`);
    else if (clash) mistakes.push(`${quote(path)}: its environment variable ${spec.env} is already that of ${clash.path}`);
    else specs.push(spec);
  }
  // A relation naming a key refused above is reported as well: it names no declared key.
  const resolved = resolveChecks(decl.checks, (path) => specs.find((s) => s.path === path) ?? HASTATE_KEYS.byPath.get(path));
  mistakes.push(...resolved.mistakes);
  if (mistakes.length > 0) throw new HastateError('HASTATE_CONFIG_SCHEMA', `invalid application config keys:\n${mistakes.join('\n')}`);
  const sections = new Set<string>();
  for (const s of specs) {
    const segs = s.path.split('.');
    for (let i = 1; i < segs.length; i++) sections.add(segs.slice(0, i).join('.'));
  }
  return {
    envPrefix,
    specs,
    sections: [...sections],
    table: specs.map((k) => ({ path: k.path, env: k.env, type: k.type, default: k.defaultDoc, doc: k.doc })),
    checks: resolved.checks,
  };
}

function declarationProblem(path: string, d: KeyDeclaration, all: readonly string[]): string | undefined {
  const segs = path.split('.');
  if (!segs.every((s) => SEGMENT.test(s))) return 'each dot-separated part must be snake_case (a-z, 0-9, _; starting with a letter)';
  if (HASTATE_TOP_LEVEL.includes(segs[0]!)) return `${segs[0]}.* belongs to hastate; put the application's keys under a name of its own`;
  if (typeof d !== 'object' || d === null || typeof d.type?.check !== 'function') return 'needs a type from keyTypes';
  if (typeof d.doc !== 'string' || d.doc.trim() === '') return 'needs a doc';
  if ((d.type.seconds === true) !== path.endsWith('_seconds')) {
    return d.type.seconds === true ? 'a seconds key must be named ..._seconds' : 'only a keyTypes.seconds() key may be named ..._seconds';
  }
  const nested = all.find((p) => p.startsWith(`${path}.`));
  if (nested) return `is both a key and the section holding ${nested}`;
  const r = d.type.check(d.default);
  if (!r.ok) return `default ${describeValue(d.default)}: ${r.message}`;
  return undefined;
}

const defaultDoc = (v: unknown): string => (v === '' ? '"" (none)' : typeof v === 'string' ? v : String(v));
