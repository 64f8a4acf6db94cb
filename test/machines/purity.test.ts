import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// machines/ must stay pure so it pastes into the Stately editor and replays under a simulated
// clock: xstate and sibling machine files only, no host clock, randomness, timers or I/O.
const dir = join(import.meta.dirname, '../../machines');
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
const forbidden: [RegExp, string][] = [
  [/\bDate\.now\b|\bnew Date\b/, 'wall clock'],
  [/\bperformance\.now\b|\bprocess\.hrtime\b/, 'host clock'],
  [/\bMath\.random\b|\bcrypto\b/, 'randomness'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'host timers'],
  [/\bprocess\.|\brequire\(/, 'process access'],
];

describe('machines/ purity', () => {
  it('has machine files to check', () => {
    expect(files).toContain('role.machine.ts');
  });
  for (const file of files) {
    it(`${file} imports only xstate and sibling machine files and uses no clock, randomness or timers`, () => {
      const source = readFileSync(join(dir, file), 'utf8');
      const imports = [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
      for (const spec of imports) expect(spec === 'xstate' || /^\.\/[\w.-]+\.ts$/.test(spec!), `${file} imports ${spec}`).toBe(true);
      const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      for (const [pattern, what] of forbidden) expect(pattern.test(code), `${file} uses ${what}`).toBe(false);
    });
  }
});
