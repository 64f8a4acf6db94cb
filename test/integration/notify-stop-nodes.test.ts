/**
 * notify.stop on a real node process: SIGTERM on a primary hands over, stops the services,
 * then runs the stop hook once with "stopped", the epoch, the node id and the role it stopped
 * in; the process exits 0 after the hook has finished.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomNetwork, startNode } from './cluster.ts';
import { nodesStoppedAfterEach } from './pair.ts';

const nodes = nodesStoppedAfterEach();

describe('notify.stop', () => {
  it('runs when a real primary node process gets SIGTERM, after the node stopped, before the process exits', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hastate-notify-stop-')), 'stop');
    const net = randomNetwork();
    // The hook sleeps a little so that "exit after the hook" is observable: the file must be complete at exit.
    const a = await startNode({ nodeId: 'stop-a', priority: 100, ...net }, {
      HASTATE_NOTIFY_STOP: `sleep 0.2; echo "$1 $2 $3 $HASTATE_FROM_ROLE $HASTATE_REASON" > ${out}`,
    });
    nodes.push(a);
    const primary = await a.waitForRole('primary', 15_000);
    expect(existsSync(out)).toBe(false);

    const code = await a.kill('SIGTERM');
    expect(code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`stopped ${primary.epoch} stop-a primary node stopped (SIGTERM)\n`);
    const hookLine = a.logs.findIndex((l) => /notify stop hook exited 0/.test(l.msg));
    const stoppedLine = a.logs.findIndex((l) => l.msg === 'stopped');
    expect(hookLine).toBeGreaterThanOrEqual(0);
    expect(stoppedLine).toBeGreaterThan(hookLine);
  }, 45_000);
});
