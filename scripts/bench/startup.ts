/**
 * Start-up side of `npm run bench:idle`: how long the compiled CLI takes from spawn to its role
 * machine entering `electing` (next to `node -e 0`, the floor of any Node.js start), and what
 * each eagerly imported dependency costs in load time and RSS on its own.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { median } from './proc-sample.ts';
import type { Children } from './children.ts';

/** Milliseconds from spawning `node -e 0` to its exit, median of `runs`. */
export function nodeFloorStartMs(runs: number): number {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    execFileSync(process.execPath, ['-e', '0']);
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

/**
 * Milliseconds from spawning `node bin/hastate.js run --config FILE` to reading its log line
 * for entering `electing`, median of `runs`; each process is stopped before the next starts.
 * `configOf(i)` writes a fresh config (own state dir, own port) for run i.
 */
export async function cliColdStartMs(children: Children, cli: string, configOf: (i: number) => string, runs: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const file = configOf(i);
    const t0 = performance.now();
    const child = children.spawn(`cold start ${i + 1}`, 'start', [cli, 'run', '--config', file, '--log', 'json']);
    await child.waitForLine((l) => l.includes('"role-change"') && l.includes('"to":"electing"'), 30_000, `cold start ${i + 1} reaching electing`);
    xs.push(performance.now() - t0);
    await children.stopAll();
  }
  return median(xs);
}

export interface ImportCost {
  module: string;
  /** Load time and RSS imported alone, against a process that imports nothing. */
  aloneMs: number;
  aloneMb: number;
  /** The same, imported after every other module of the list: what leaving it out would save. */
  marginalMs: number;
  marginalMb: number;
}

/** Each module in a fresh process (median of `runs`): alone, and last after all the others. */
export function importCosts(modules: readonly string[], runs: number, cwd: string): ImportCost[] {
  const specifier = (m: string) => (m.startsWith('/') ? pathToFileURL(m).href : m);
  /** Loads `before`, then measures loading `measured`: its time, and the RSS after all (after a full GC, so garbage from loading does not count). */
  const probe = (before: readonly string[], measured: string | null) => {
    const imports = (ms: readonly string[]) => ms.map((m) => `await import(${JSON.stringify(specifier(m))});`).join(' ');
    const script = `${imports(before)} const t0 = performance.now(); ${measured === null ? '' : imports([measured])} const ms = performance.now() - t0; globalThis.gc(); process.stdout.write(JSON.stringify({ ms, rss: process.memoryUsage().rss }));`;
    const loads: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < runs; i++) {
      const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', cwd })) as { ms: number; rss: number };
      loads.push(out.ms);
      rss.push(out.rss);
    }
    return { ms: median(loads), rss: median(rss) };
  };
  const empty = probe([], null);
  return modules.map((module) => {
    const others = modules.filter((m) => m !== module);
    const alone = probe([], module);
    const withoutIt = probe(others, null);
    const last = probe(others, module);
    return {
      module,
      aloneMs: alone.ms - empty.ms,
      aloneMb: (alone.rss - empty.rss) / 2 ** 20,
      marginalMs: last.ms - withoutIt.ms,
      marginalMb: (last.rss - withoutIt.rss) / 2 ** 20,
    };
  });
}
