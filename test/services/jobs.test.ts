/**
 * Leader-only jobs on real nodes (real multicast on loopback): callbacks in order, periodic
 * tasks only in their role, and a running primary task cancelled before the node reports
 * that it left primary.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.ts';
import { HaNode } from '../../src/runtime/node.ts';
import { leaderJobs } from '../../src/services/jobs.ts';
import { randomNetwork } from '../integration/cluster.ts';
import { until } from '../until.ts';

const silent = pino({ level: 'silent' });
let nodes: HaNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop(1000)));
  nodes = [];
});

function config(net: { group: string; port: number }, nodeId: string, extra = '') {
  return parseConfigText(
    `ha:\n  multicast_group: ${net.group}\n  interface: 127.0.0.1\n  node_id: ${nodeId}\n  election_window_seconds: 0.1\n${extra}  heartbeat:\n    port: ${net.port}\n    interval_seconds: 0.05\n    timeout_seconds: 0.15\nstatus:\n  enabled: false\n`,
    'test.yaml',
    { env: {} },
  );
}

describe('leaderJobs', () => {
  it('a running primary task is aborted before the node reports leaving primary; onStoppedLeading follows', async () => {
    const order: string[] = [];
    let epochSeen = 0;
    const jobs = leaderJobs({
      name: 'report',
      onStartedLeading: ({ epoch }) => {
        order.push(`started:${epoch}`);
      },
      onStoppedLeading: ({ to }) => {
        order.push(`stopped->${to}`);
      },
      primaryTask: {
        intervalMs: 20,
        timeoutMs: 60_000,
        // Never finishes on its own: only the role can end it.
        run: (signal, { epoch }) =>
          new Promise<void>((_, reject) => {
            epochSeen = epoch;
            order.push('run');
            signal.addEventListener('abort', () => {
              order.push('aborted');
              reject(signal.reason);
            });
          }),
      },
    });
    const node = new HaNode({ config: config(randomNetwork(), '127.0.0.5'), logger: silent, services: [jobs] });
    nodes.push(node);
    node.onRoleChange((c) => order.push(`node:${c.to}`));
    node.start();
    await until('the task to run', () => order.includes('run'));
    // Several ticks pass while the first run is still going: they are skipped, not stacked.
    await until('skipped ticks', () => jobs.counters().skipped >= 2);
    expect(jobs.counters().primaryRuns).toBe(1);
    expect(epochSeen).toBe(1);

    await node.resign();
    await until('onStoppedLeading', () => order.some((e) => e.startsWith('stopped->')));
    const aborted = order.indexOf('aborted');
    const reported = order.findIndex((e, i) => i > order.indexOf('node:primary') && e.startsWith('node:') && e !== 'node:primary');
    expect(aborted).toBeGreaterThan(-1);
    expect(reported).toBeGreaterThan(aborted);
    expect(order.indexOf('started:1')).toBeLessThan(order.indexOf('run'));
    expect(order.findIndex((e) => e.startsWith('stopped->'))).toBeGreaterThan(aborted);
    expect(jobs.counters()).toMatchObject({ cancelled: 1, failures: 0 });
    // No run starts once primary is lost, even though the interval has passed many times since.
    const runs = jobs.counters().primaryRuns;
    await new Promise((r) => setTimeout(r, 100));
    if (node.status().role !== 'primary') expect(jobs.counters().primaryRuns).toBe(runs);
  });

  it('on the standby: onNewLeader names the primary, the standby task runs with it, the primary task never runs', async () => {
    const net = randomNetwork();
    const leaders: string[] = [];
    const standbySeen: (string | null)[] = [];
    const make = (name: string) =>
      leaderJobs({
        name,
        onNewLeader: (id) => {
          leaders.push(`${name}:${id}`);
        },
        primaryTask: { intervalMs: 10, run: () => undefined },
        standbyTask: { intervalMs: 10, run: (_signal, { leaderId }) => void standbySeen.push(leaderId) },
      });
    const jobsA = make('a');
    const jobsB = make('b');
    const a = new HaNode({ config: config(net, '127.0.0.6', '  priority: 10\n'), logger: silent, services: [jobsA] });
    const b = new HaNode({ config: config(net, '127.0.0.7'), logger: silent, services: [jobsB] });
    nodes.push(a, b);
    // a first, so that the test is about the standby's jobs, not about a close election under load.
    a.start();
    await until('a primary', () => a.status().role === 'primary');
    b.start();
    await until('a primary and b standby', () => a.status().role === 'primary' && b.status().role === 'standby');
    await until('standby task runs', () => standbySeen.length >= 3);
    expect(new Set(standbySeen)).toEqual(new Set(['127.0.0.6']));
    expect(leaders).toContain('a:127.0.0.6');
    expect(leaders).toContain('b:127.0.0.6');
    expect(jobsB.counters().primaryRuns).toBe(0);
    expect(jobsA.counters().standbyRuns).toBe(0);
    expect(jobsA.counters().primaryRuns).toBeGreaterThan(0);
  });

  it('a run that outlives timeoutMs is aborted and counted as a failure, and the next tick runs again', async () => {
    const jobs = leaderJobs({
      name: 'slow',
      primaryTask: {
        intervalMs: 30,
        timeoutMs: 10,
        run: (signal) =>
          new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Error('timed out')))),
      },
    });
    const node = new HaNode({ config: config(randomNetwork(), '127.0.0.8'), logger: silent, services: [jobs] });
    nodes.push(node);
    node.start();
    await until('two timed-out runs', () => jobs.counters().failures >= 2);
    expect(jobs.counters().lastError).toContain('timed out');
    expect(jobs.counters().cancelled).toBe(0);
  });

  it('refuses bad intervals up front, naming the task and the key', () => {
    expect(() => leaderJobs({ name: 'x', primaryTask: { intervalMs: 0, run: () => undefined } })).toThrow(/x: primaryTask.intervalMs/);
    expect(() => leaderJobs({ name: 'x', standbyTask: { intervalMs: 10, timeoutMs: 1.5, run: () => undefined } })).toThrow(/standbyTask.timeoutMs/);
    expect(() => leaderJobs({ name: 'bad name!' })).toThrow(/service name/);
  });
});
