/**
 * Walks a configuration tree (views.ts) and hands every value to its key's check. It finds
 * hastate's block first when it sits in a larger document (`section`), and leaves the keys an
 * application owns (`appSections`) alone; inside hastate's blocks every key must be known.
 */
import type { Collector, Origin } from './collector.ts';
import type { KeySet } from './key-set.ts';
import { quote } from './checks.ts';
import { editDistance, suggest } from './suggest.ts';
import type { MapView, ValueView } from './views.ts';

export interface Placement {
  /** Path of hastate's block inside a larger document, one key per element; [] = the whole document. */
  section: readonly string[];
  /**
   * Keys next to hastate's (at the top of the document, or of the section) that belong to the
   * application and are not read: a list of names, or '*' for every name that is not too close
   * to one of hastate's (so `hq:` is still reported as a typo of `ha:`).
   */
  appSections: readonly string[] | '*';
}

export type Here = (offset: number | undefined, key: string) => Origin;

export const keyLabel = (k: string): string => (/^[\w-]{1,64}$/.test(k) ? k : quote(k));
const join = (...parts: string[]): string => parts.filter((p) => p !== '').join('.');

export function walkConfig(root: ValueView, place: Placement, keys: KeySet, c: Collector, here: Here): void {
  let node = root;
  let label = '';
  for (const seg of place.section) {
    const full = join(label, keyLabel(seg));
    const map = node.map();
    if (!map) {
      const found = node.isNull && label === '' ? 'the document is empty' : `found ${node.describe()}`;
      return stop(c, here(node.at, label || '(root)'), `expected a mapping holding ${full}; ${found}`);
    }
    const matches = map.entries.filter((e) => e.key === seg);
    if (matches.length === 0) {
      const names = map.entries.flatMap((e) => (e.key === undefined ? [] : [e.key]));
      const hint = suggest(seg, names);
      const ours = names.filter((n) => topLevelNames(keys).includes(n));
      const why = hint !== undefined ? `; did you mean ${join(label, keyLabel(hint))}?`
        : ours.length > 0 ? ` (hastate's ${ours.slice(0, 3).join(', ')} ${ours.length === 1 ? 'is' : 'are'} here${label === '' ? ' at the top level: use no section' : `: use section ${label}`})`
        : '';
      return stop(c, here(map.at ?? node.at, label || '(root)'), `section ${full} not found${why}`);
    }
    if (matches.length > 1) {
      const first = here(matches[0]!.keyAt, full).line;
      for (const dup of matches.slice(1)) c.problem(here(dup.keyAt, full), `duplicate key${first === undefined ? '' : ` (first defined at line ${first})`}`);
      c.fileOk = false;
      return;
    }
    node = matches[0]!.value;
    label = full;
    if (node.problem !== undefined) return stop(c, here(node.at, label), node.problem);
  }
  if (place.section.length === 0 && node.isNull) return; // empty document: all defaults
  const map = node.map();
  if (!map) {
    const top = topLevelNames(keys);
    const what = place.section.length === 0 ? `top level must be a mapping (${top.slice(0, 3).join(', ')})` : `expected a mapping of hastate's keys (${top.join(', ')})`;
    return stop(c, here(node.at, label || '(root)'), `${what}, found ${node.describe()}`);
  }
  walkMap(map, '', label, { keys, c, here, appSections: place.appSections });
}

function stop(c: Collector, at: Origin, message: string): void {
  c.fileOk = false;
  c.problem(at, message);
}

interface Ctx { keys: KeySet; c: Collector; here: Here; appSections: readonly string[] | '*' }

const topLevelNames = (keys: KeySet): string[] => keys.knownPaths.filter((p) => !p.includes('.'));

function walkMap(map: MapView, prefix: string, labelPrefix: string, ctx: Ctx): void {
  const { keys, c, here } = ctx;
  const seen = new Map<string, number | undefined>(); // key -> line of first occurrence
  for (const e of map.entries) {
    const label = (k: string) => join(labelPrefix, prefix, k);
    if (e.key === undefined) {
      c.problem(here(e.keyAt, label('(key)')), e.keyProblem ?? 'key is not a plain string');
      continue;
    }
    const k = e.key;
    const path = join(prefix, k);
    const at = here(e.keyAt, label(keyLabel(k)));
    if (seen.has(k)) {
      const first = seen.get(k);
      c.problem(at, `duplicate key${first === undefined ? '' : ` (first defined at line ${first})`}`);
      continue;
    }
    seen.set(k, at.line);
    const valueAt = here(e.value.at ?? e.keyAt, at.key);
    if (e.value.problem !== undefined) {
      c.problem(valueAt, e.value.problem);
      continue;
    }
    if (keys.sections.has(path)) {
      const inner = e.value.map();
      if (inner) walkMap(inner, path, labelPrefix, ctx);
      else if (!e.value.isNull) c.problem(valueAt, `expected a mapping of ${path}.* keys, found ${e.value.describe()}`);
      continue;
    }
    const spec = keys.byPath.get(path);
    if (spec) {
      c.set(spec, e.value.raw(), valueAt);
      continue;
    }
    if (prefix === '' && ownedByApplication(k, ctx)) continue;
    const hint = suggest(path, keys.knownPaths, '.');
    const why = prefix === '' && ctx.appSections === '*' && hint !== undefined
      ? ' (with app sections "*", a top-level name this close to one of hastate\'s is not left to the application; list the application\'s names instead)'
      : '';
    c.problem(at, `unknown key${hint ? `; did you mean ${join(labelPrefix, hint)}?` : ''}${why}`);
  }
}

function ownedByApplication(k: string, ctx: Ctx): boolean {
  if (ctx.appSections !== '*') return ctx.appSections.includes(k);
  return !topLevelNames(ctx.keys).some((name) => editDistance(k.toLowerCase(), name, 1) <= 1);
}
