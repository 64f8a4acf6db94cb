import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateAll, MACHINES } from '../../src/visualize/index.ts';
import { allStates, readMachine } from '../../src/visualize/model.ts';

const dir = join(import.meta.dirname, '../../visualizations');

describe('visualizations', () => {
  it('the committed diagrams match the machine definitions (run `npm run visualize` if this fails)', () => {
    for (const [name, text] of generateAll()) {
      let committed = '';
      try {
        committed = readFileSync(join(dir, name), 'utf8');
      } catch {
        // missing counts as stale
      }
      expect(committed === text, `visualizations/${name} is stale: run npm run visualize`).toBe(true);
    }
  });

  it('generation is deterministic', () => {
    expect([...generateAll()]).toEqual([...generateAll()]);
  });

  for (const [name, machine] of Object.entries(MACHINES)) {
    it(`${name}: every state has an id the live view can highlight`, () => {
      const svg = generateAll().get(`${name}.svg`)!;
      for (const s of allStates(readMachine(machine))) expect(svg).toContain(`id="state-${s.path}"`);
    });

    it(`${name}: opens by name in the Stately editor: every guard, action, actor and delay is named in setup()`, () => {
      const impl = (machine as unknown as { implementations: Record<string, Record<string, unknown>> }).implementations;
      const model = readMachine(machine);
      for (const s of [model, ...allStates(model)]) {
        for (const inv of s.invokes) expect(Object.keys(impl.actors!), `${s.path}: actor ${inv}`).toContain(inv);
        for (const a of s.entry) expect(Object.keys(impl.actions!), `${s.path}: entry ${a}`).toContain(a);
        for (const t of s.transitions) {
          for (const a of t.actions) expect(Object.keys(impl.actions!), `${s.path} ${t.event}: action ${a}`).toContain(a);
          for (const g of (t.guard ?? '').split(/ && | \|\| /).filter(Boolean)) {
            expect(Object.keys(impl.guards!), `${s.path} ${t.event}: guard ${g}`).toContain(g.replace(/^!/, ''));
          }
          const delay = /^after (.+)$/.exec(t.event)?.[1];
          if (delay !== undefined) expect(Object.keys(impl.delays!), `${s.path}: delay ${delay}`).toContain(delay);
        }
      }
    });
  }
});
