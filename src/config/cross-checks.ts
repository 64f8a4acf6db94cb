/**
 * Checks between two keys (one must be greater than, less than, or different from another), run
 * after defaults are applied. hastate's own relations and those an application declares with
 * defineConfigKeys({ checks }) go through the same code, so their problems read the same: one
 * problem, at the key that must change, naming the other key and its value, and saying when the
 * offending value is a default.
 */
import type { Collector } from './collector.ts';
import type { KeySpec } from './schema.ts';

/** A relation as an application declares it; `why` is appended to the problem (e.g. what would go wrong). */
export type CrossCheck =
  | { key: string; greaterThan: string; why?: string }
  | { key: string; lessThan: string; why?: string }
  | { key: string; differentFrom: string; why?: string };

/** A relation with its keys resolved (checked when declared, so running it cannot fail). */
export interface ResolvedCheck {
  readonly relation: 'greater' | 'less' | 'differ';
  readonly key: KeySpec;
  readonly other: KeySpec;
  readonly why: string;
}

/** Bound on the relations one application declares. */
export const MAX_CROSS_CHECKS = 1000;

/**
 * Resolves declared relations against the keys they may name (the application's and hastate's);
 * returns one mistake per bad relation, in declaration order.
 */
export function resolveChecks(declared: unknown, lookup: (path: string) => KeySpec | undefined): { checks: ResolvedCheck[]; mistakes: string[] } {
  const checks: ResolvedCheck[] = [];
  const mistakes: string[] = [];
  if (declared === undefined) return { checks, mistakes };
  if (!Array.isArray(declared)) return { checks, mistakes: ['checks must be a list of relations'] };
  if (declared.length > MAX_CROSS_CHECKS) mistakes.push(`at most ${MAX_CROSS_CHECKS} checks, found ${declared.length}`);
  for (const [i, d] of (declared as unknown[]).slice(0, MAX_CROSS_CHECKS).entries()) {
    const r = resolveOne(d, lookup);
    if (typeof r === 'string') mistakes.push(`checks[${i}]: ${r}`);
    else checks.push(r);
  }
  return { checks, mistakes };
}

function resolveOne(d: unknown, lookup: (path: string) => KeySpec | undefined): ResolvedCheck | string {
  if (typeof d !== 'object' || d === null) return 'expected { key, greaterThan | lessThan | differentFrom, why? }';
  const o = d as Record<string, unknown>;
  const named = (['greaterThan', 'lessThan', 'differentFrom'] as const).filter((r) => o[r] !== undefined);
  if (named.length !== 1) return 'needs exactly one of greaterThan, lessThan, differentFrom';
  const relation = ({ greaterThan: 'greater', lessThan: 'less', differentFrom: 'differ' } as const)[named[0]!];
  if (o.why !== undefined && typeof o.why !== 'string') return 'why must be a string';
  const key = typeof o.key === 'string' ? lookup(o.key) : undefined;
  const other = typeof o[named[0]!] === 'string' ? lookup(o[named[0]!] as string) : undefined;
  if (key === undefined) return `key ${JSON.stringify(String(o.key))} is not a declared key`;
  if (other === undefined) return `${named[0]} ${JSON.stringify(String(o[named[0]!]))} is not a declared key`;
  if (key === other) return `${key.path} is compared with itself`;
  if (relation !== 'differ' && (key.envKind !== 'number' || other.envKind !== 'number')) {
    return `${key.path} and ${other.path} must both be numbers (integer or seconds) to be ordered`;
  }
  return { relation, key, other, why: (o.why as string | undefined) ?? '' };
}

/** Both keys hold a value that passed its own check (so a relation between them means something). */
export const validKeys = (c: Collector, ...paths: string[]): boolean => paths.every((p) => c.values.has(p) && !c.invalid.has(p));

/** Runs one relation; a key without a valid value is skipped (its own problem is already reported). */
export function runCheck(c: Collector, check: ResolvedCheck): void {
  const { key, other, relation } = check;
  if (!validKeys(c, key.path, other.path)) return;
  const value = c.values.get(key.path);
  const bound = c.values.get(other.path);
  const holds = relation === 'greater' ? (value as number) > (bound as number)
    : relation === 'less' ? (value as number) < (bound as number)
    : value !== bound;
  if (holds) return;
  const origin = c.origins.get(key.path)!;
  const why = check.why === '' ? '' : `: ${check.why}`;
  const shownBound = String(other.render(bound));
  if (relation === 'differ') {
    c.problem(origin, `must differ from ${other.path} (${shownBound})${why}`);
    return;
  }
  const shown = String(key.render(value));
  const found = origin.source === 'defaults' ? `the default ${shown}` : shown;
  c.problem(origin, `must be ${relation} than ${other.path} (${shownBound}), found ${found}${why}`);
}
