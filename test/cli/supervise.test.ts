/**
 * The supervisor of `hastate run --supervise` (src/cli/supervise.ts) with real child processes
 * standing in for the node: which exits it restarts, its backoff, and its start limit. The node
 * itself under the supervisor, with the farewell and signals, is in
 * test/integration/farewell-nodes.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { supervise } from '../../src/cli/supervise.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/runtime/log.ts';

/** A node whose state directory does not exist: its farewell says so and sends nothing. */
const config = loadConfig({ object: { ha: { interface: '127.0.0.1', node_id: 'a', state_dir: join(mkdtempSync(join(tmpdir(), 'hastate-supervise-')), 'none') } } });

async function superviseChild(script: string, limits = {}) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = createLogger({ level: 'info', human: false, destination });
  const code = await supervise({ config, log, command: process.execPath, args: ['-e', script], limits: { restartBaseMs: 5, restartMaxMs: 20, ...limits } });
  const events = (name: string) => lines.filter((l) => l.event === name);
  return { code, lines, events };
}

describe('hastate run --supervise', () => {
  it('restarts a node that exits abnormally, with doubling delays, sending a farewell each time, and gives up at the start limit', async () => {
    const { code, events } = await superviseChild('process.exit(1)', { maxCrashesInWindow: 4 });
    expect(code).toBe(1);
    expect(events('supervisor-start')).toHaveLength(4);
    expect(events('supervisor-crash').map((l) => l.code)).toEqual([1, 1, 1, 1]);
    expect(events('farewell')).toHaveLength(4);
    expect(events('farewell')[0]).toMatchObject({ sent: false, reason: expect.stringContaining('does not exist') });
    expect(events('supervisor-restart').map((l) => l.delayMs)).toEqual([5, 10, 20]);
    expect(events('supervisor-give-up')).toHaveLength(1);
  });

  it('treats death by a signal as a crash', async () => {
    const { code, events } = await superviseChild("process.kill(process.pid, 'SIGKILL')", { maxCrashesInWindow: 2 });
    expect(code).toBe(1);
    expect(events('supervisor-crash').map((l) => l.signal)).toEqual(['SIGKILL', 'SIGKILL']);
  });

  it('does not restart after exit 0 (stopped) or exit 2 (bad configuration, locked state file), and exits with that code', async () => {
    for (const exit of [0, 2]) {
      const { code, events } = await superviseChild(`process.exit(${exit})`);
      expect(code).toBe(exit);
      expect(events('supervisor-start')).toHaveLength(1);
      expect(events('supervisor-exit')).toMatchObject([{ code: exit }]);
      expect(events('farewell')).toEqual([]);
    }
  });

  it('gives up only when the crashes come within the window', async () => {
    // Each run lasts about 30 ms, so 3 crashes never fall within a 1 ms window: it keeps restarting until the child succeeds.
    const marker = join(mkdtempSync(join(tmpdir(), 'hastate-supervise-')), 'runs');
    const script = `const fs = require('node:fs'); const n = fs.existsSync(${JSON.stringify(marker)}) ? Number(fs.readFileSync(${JSON.stringify(marker)}, 'utf8')) : 0; fs.writeFileSync(${JSON.stringify(marker)}, String(n + 1)); setTimeout(() => process.exit(n < 4 ? 1 : 0), 30);`;
    const { code, events } = await superviseChild(script, { maxCrashesInWindow: 3, crashWindowMs: 1 });
    expect(code).toBe(0);
    expect(events('supervisor-start')).toHaveLength(5);
    expect(events('supervisor-give-up')).toEqual([]);
  });
});
