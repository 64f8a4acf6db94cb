/**
 * What one load gathers on its way: values by key path, where each came from, and every problem
 * found (bounded), so that all problems are reported together.
 */
import type { ConfigProblem } from '../errors.ts';
import type { KeySpec } from './schema.ts';

/** Problems beyond this many (in discovery order) are summarised in one extra problem. */
export const MAX_PROBLEMS = 100;

export interface Origin { source: string; key: string; line?: number; column?: number }

export class Collector {
  readonly problems: ConfigProblem[] = [];
  /** Output-form values by snake_case path. */
  readonly values = new Map<string, unknown>();
  readonly origins = new Map<string, Origin>();
  /** Keys that were given a value that failed validation (no default is substituted). */
  readonly invalid = new Set<string>();
  /** False when the input could not be read or parsed: later stages would only add noise. */
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
