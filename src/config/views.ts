/**
 * One view of a configuration tree, whatever it came from: a parsed YAML/JSON document (values
 * carry offsets into the text) or an object the application already holds (no positions). The
 * walker (walk.ts) reads only this, so both get the same validation and the same messages.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Node as YamlNode, type YAMLMap } from 'yaml';
import { describeValue as describeRaw } from './checks.ts';

export interface ValueView {
  /** Offset in the source text, when there is one. */
  at?: number;
  /** Why the value cannot be read at all (an unresolved alias, a throwing getter). */
  problem?: string;
  /** An empty value (YAML `key:` with nothing, or null). */
  isNull: boolean;
  /** The value as key checks see it: scalars as themselves; YAML collections as [] / {}. */
  raw(): unknown;
  /** Short description for problems, e.g. `string "3"`, `a sequence`. */
  describe(): string;
  /** Its entries, when the value is a mapping (read only when asked: app-owned parts never are). */
  map(): MapView | undefined;
}

export interface EntryView {
  /** undefined when the key is not a plain string; `keyProblem` says why. */
  key: string | undefined;
  keyProblem?: string;
  keyAt?: number;
  value: ValueView;
}

export interface MapView { at?: number; entries: EntryView[] }

// ---------------------------------------------------------------- YAML

/** A node's value as the key checks see it: scalars as JS values, collections as [] / {}. */
export function yamlRaw(node: unknown, doc: Document): unknown {
  const n = isAlias(node) ? node.resolve(doc) : node;
  if (n === null || n === undefined) return null;
  if (isScalar(n)) return n.value;
  if (isSeq(n)) return [];
  return {};
}

export function yamlValue(node: unknown, doc: Document, fallbackAt?: number): ValueView {
  const own = node as YamlNode | null | undefined;
  const at = own?.range?.[0] ?? fallbackAt;
  const resolved = isAlias(own) ? own.resolve(doc) : own;
  if (isAlias(own) && resolved === undefined) {
    return { at, problem: `unresolved alias ${String(own)}`, isNull: false, raw: () => undefined, describe: () => 'an unresolved alias', map: () => undefined };
  }
  return {
    at,
    isNull: resolved === null || resolved === undefined || (isScalar(resolved) && resolved.value === null),
    raw: () => yamlRaw(resolved, doc),
    describe: () => describeRaw(yamlRaw(resolved, doc)),
    map: () => (isMap(resolved) ? yamlMap(resolved, doc) : undefined),
  };
}

function yamlMap(map: YAMLMap, doc: Document): MapView {
  const mapAt = map.range?.[0];
  const entries = map.items.map((pair): EntryView => {
    const keyNode = pair.key as YamlNode | null;
    const keyAt = keyNode?.range?.[0] ?? mapAt;
    const value = yamlValue(pair.value, doc, keyAt);
    const resolvedKey = isAlias(keyNode) ? keyNode.resolve(doc) : keyNode;
    if (resolvedKey === undefined) return { key: undefined, keyProblem: `unresolved alias ${String(keyNode)}`, keyAt, value };
    if (resolvedKey !== null && !isScalar(resolvedKey)) {
      return { key: undefined, keyProblem: `keys must be plain strings, found ${describeRaw(yamlRaw(resolvedKey, doc))} as a key`, keyAt, value };
    }
    return { key: String(resolvedKey?.value ?? 'null'), keyAt, value };
  });
  return { at: mapAt, entries };
}

// ---------------------------------------------------------------- plain objects

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/**
 * An object the application holds. A key whose value is `undefined` counts as absent (as in
 * JSON.stringify); a class instance, Map or array where a mapping belongs is refused as such.
 */
export function objectValue(v: unknown): ValueView {
  return {
    isNull: v === null,
    raw: () => v,
    describe: () => {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || isPlainObject(v)) return describeRaw(v);
      const name = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
      return `an object of class ${typeof name === 'string' && name !== '' ? name : '(anonymous)'} (plain objects only)`;
    },
    map: () => (isPlainObject(v) ? { entries: objectEntries(v) } : undefined),
  };
}

function objectEntries(obj: Record<string, unknown>): EntryView[] {
  const out: EntryView[] = [];
  for (const key of Object.keys(obj)) {
    let v: unknown;
    try {
      v = obj[key];
    } catch (err) {
      const problem = `reading it threw: ${err instanceof Error ? err.message : String(err)}`;
      out.push({ key, value: { problem, isNull: false, raw: () => undefined, describe: () => 'unreadable', map: () => undefined } });
      continue;
    }
    if (v !== undefined) out.push({ key, value: objectValue(v) });
  }
  return out;
}
