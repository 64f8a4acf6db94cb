/**
 * `npm run demo`: the reference application as two real node processes on this host (loopback
 * multicast), the API stand-in, and a steady load of alerts, monitor requests and BMC
 * datagrams. Prints a line per second, kills the primary part-way (SIGKILL), restarts it, and
 * ends with a summary: alerts accepted vs lost, monitor requests answered vs unanswered, and
 * the measured switch time.
 *
 * Options: --duration-s 15 --kill-at-s 5 --restart-at-s 10 --json
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { startApiStandIn } from '../src/reference/api-stand-in.ts';
import { encodeBmcStatus, encodeMonitorRequest, parseMonitorResponse } from '../src/reference/protocol.ts';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'src/cli/main.ts');
/** An alert the client could not get accepted within this long counts as given up (not lost: never accepted). */
const ALERT_DEADLINE_MS = 10_000;
/** A monitor request without a response within this long is unanswered. */
const MONITOR_ANSWER_MS = 500;
/** Bound on the two nodes' start-up and first election before the demo's timeline begins. */
const SETTLE_DEADLINE_MS = 30_000;

export interface DemoOptions {
  durationMs: number;
  killAtMs: number;
  restartAtMs: number;
  print: (line: string) => void;
}

export interface DemoSummary {
  alerts: { sent: number; accepted: number; lost: number; gaveUp: number; refusedAnswers: number; maxDeliveryMs: number };
  monitor: { sent: number; answered: number; unanswered: number; answeredTwice: number };
  bmcSent: number;
  switchMs: number | null;
  /** From the kill to the first alert accepted by the new primary. */
  alertGapMs: number | null;
  failovers: number;
  restartedAs: string | null;
  keepalives: Record<string, number>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });

interface DemoNode {
  id: string;
  file: string;
  statusPort: number;
  alertUrl: string;
  proc: ChildProcess | null;
  roleLog: { to: string; epoch: number; atMs: number }[];
}

function spawnNode(n: DemoNode): void {
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '--config', n.file, '--log', 'json'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_'))),
  });
  let buffer = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        const l = JSON.parse(line) as { event?: string; to?: string; epoch?: number };
        if (l.event !== 'role-change') continue;
        n.roleLog.push({ to: l.to!, epoch: l.epoch!, atMs: performance.now() });
        if (l.to === 'primary') terms.add(`${n.id}@${l.epoch}`);
      } catch {
        // not a log line
      }
    }
  });
  proc.stderr!.resume();
  n.proc = proc;
}

/** Every primary term seen (node@epoch), across restarts: terms - 1 = failovers. */
const terms = new Set<string>();

const roleOf = (n: DemoNode) => (n.proc === null ? 'down' : (n.roleLog.at(-1)?.to ?? 'unknown'));

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'hastate-demo-'));
  terms.clear();
  const standIn = await startApiStandIn();
  const r = () => 1 + Math.floor(Math.random() * 250);
  const base = `239.253.${r()}`;
  const haGroup = `${base}.1`;
  const monitorGroup = `${base}.2`;
  const bmcGroup = `${base}.3`;
  const port0 = 30_000 + Math.floor(Math.random() * 10_000) * 3;
  const nodes: DemoNode[] = [];
  for (const [id, priority] of [['node-a', 10], ['node-b', 5]] as const) {
    const statusPort = await freePort();
    const alertPort = await freePort();
    const file = join(dir, `${id}.yaml`);
    writeFileSync(file, [
      'ha:', `  multicast_group: ${haGroup}`, '  interface: 127.0.0.1', `  node_id: ${id}`, `  priority: ${priority}`,
      // The demo's epochs live with its files, not in the user's state directory.
      `  state_dir: ${JSON.stringify(join(dir, 'state'))}`,
      '  election_window_seconds: 0.4', '  heartbeat:', `    port: ${port0}`, '    interval_seconds: 0.2', '    timeout_seconds: 0.6',
      'status:', '  host: 127.0.0.1', `  port: ${statusPort}`, 'log:', '  level: info',
      'reference:', '  enabled: true', `  api_url: ${standIn.url}`, '  collect_interval_seconds: 1', '  stale_after_seconds: 3',
      '  keepalive_interval_seconds: 1', '  api_timeout_seconds: 0.5',
      '  monitor:', `    group: ${monitorGroup}`, `    request_port: ${port0 + 1}`, `    response_port: ${port0 + 2}`,
      '  alerts:', '    host: 127.0.0.1', `    port: ${alertPort}`, '    retry_after_seconds: 0.1',
      '  bmc:', `    group: ${bmcGroup}`, `    port: ${port0 + 3}`, '',
    ].join('\n'));
    nodes.push({ id, file, statusPort, alertUrl: `http://127.0.0.1:${alertPort}/alerts`, proc: null, roleLog: [] });
  }
  const urlOf = new Map(nodes.map((n) => [n.id, n.alertUrl]));
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  for (const n of nodes) spawnNode(n);

  const alerts = { sent: 0, accepted: 0, gaveUp: 0, refusedAnswers: 0, maxDeliveryMs: 0 };
  const acceptedIds: string[] = [];
  let killAt: number | null = null;
  let firstAcceptAfterKill: number | null = null;
  let target = nodes[0]!.alertUrl;

  // The alert client behaves as seed 004's clients do: follow NOT_PRIMARY to the named primary,
  // wait out SWITCHING_OVER, try the other node when one does not answer.
  const deliver = async (id: string) => {
    const started = performance.now();
    let attempt = 0;
    while (performance.now() - started < ALERT_DEADLINE_MS) {
      attempt++;
      try {
        const res = await fetch(target, {
          method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(1_000),
          body: JSON.stringify({ id, boardId: 'board-2', level: 'warning', message: `demo alert ${id}` }),
        });
        const body = (await res.json()) as { code: string; primary?: string | null; retryAfterMs?: number };
        if (res.status === 200) {
          alerts.accepted++;
          acceptedIds.push(id);
          alerts.maxDeliveryMs = Math.max(alerts.maxDeliveryMs, performance.now() - started);
          if (killAt !== null && firstAcceptAfterKill === null) firstAcceptAfterKill = now();
          return;
        }
        alerts.refusedAnswers++;
        if (body.code === 'NOT_PRIMARY' && body.primary && urlOf.has(body.primary)) target = urlOf.get(body.primary)!;
        else await new Promise((r) => setTimeout(r, Math.min(body.retryAfterMs ?? 100, 200)));
      } catch {
        // Connection refused or no answer: the other node may be the one to talk to.
        target = nodes.find((n) => n.alertUrl !== target)!.alertUrl;
        await new Promise((r) => setTimeout(r, Math.min(20 * attempt, 200)));
      }
    }
    alerts.gaveUp++;
  };

  // Monitor requests and their answers.
  const monitor = { sent: 0, answered: 0, answeredTwice: 0 };
  const pending = new Map<number, number>();
  const answeredBy = new Map<number, number>();
  const rx = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => rx.bind({ port: port0 + 2, address: monitorGroup }, () => resolve()));
  rx.addMembership(monitorGroup, '127.0.0.1');
  rx.on('message', (m) => {
    const res = parseMonitorResponse(m);
    if (!res.ok) return;
    const id = res.value.requestId;
    const n = (answeredBy.get(id) ?? 0) + 1;
    answeredBy.set(id, n);
    if (n === 2) monitor.answeredTwice++;
    if (pending.has(id) && performance.now() - pending.get(id)! <= MONITOR_ANSWER_MS) monitor.answered++;
    pending.delete(id);
  });
  const tx = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => tx.bind(0, '127.0.0.1', () => resolve()));
  tx.setMulticastInterface('127.0.0.1');
  tx.setMulticastLoopback(true);
  let bmcSent = 0;

  const inflight = new Set<Promise<void>>();
  let seq = 0;
  const timers: NodeJS.Timeout[] = [];
  const loadStartMs = 500; // the pair has settled; give the collectors a first refresh
  const startLoad = () => {
    timers.push(setInterval(() => {
      const p = deliver(`alert-${++seq}`).finally(() => inflight.delete(p));
      inflight.add(p);
      alerts.sent++;
    }, 50));
    timers.push(setInterval(() => {
      const id = ++monitor.sent;
      pending.set(id, performance.now());
      tx.send(encodeMonitorRequest(id), port0 + 1, monitorGroup);
    }, 100));
    timers.push(setInterval(() => {
      bmcSent++;
      tx.send(encodeBmcStatus({ boardId: `board-${1 + (bmcSent % 8)}`, health: 'ok', temperatureC: 40 + (bmcSent % 5) }), port0 + 3, bmcGroup);
    }, 200));
  };

  let last = { accepted: 0, answered: 0, sentMonitor: 0 };
  const tick = () => {
    const primary = nodes.find((n) => roleOf(n) === 'primary');
    const failovers = Math.max(0, terms.size - 1);
    opts.print(
      `t=${(now() / 1000).toFixed(0).padStart(3)}s  primary=${primary ? `${primary.id} (epoch ${primary.roleLog.at(-1)!.epoch})` : '-- none --'}  ` +
        `roles ${nodes.map((n) => `${n.id}:${roleOf(n)}`).join(' ')}  ` +
        `alerts +${alerts.accepted - last.accepted}/s (accepted ${alerts.accepted}, in flight ${inflight.size})  ` +
        `monitor ${monitor.answered - last.answered}/${monitor.sent - last.sentMonitor} answered  failovers ${failovers}`,
    );
    last = { accepted: alerts.accepted, answered: monitor.answered, sentMonitor: monitor.sent };
  };

  // The timeline (load, kill, restart) starts once the pair has settled, one primary and one
  // standby: on a loaded machine two processes can take seconds to start, and killing "the
  // primary" before there is one would show nothing.
  const settleBy = performance.now() + SETTLE_DEADLINE_MS;
  while (!(nodes.some((n) => roleOf(n) === 'primary') && nodes.some((n) => roleOf(n) === 'standby'))) {
    if (performance.now() > settleBy) {
      for (const n of nodes) n.proc?.kill('SIGKILL');
      rx.close();
      tx.close();
      await standIn.close();
      throw new Error(`demo: no primary and standby within ${SETTLE_DEADLINE_MS} ms (roles: ${nodes.map((n) => `${n.id}=${roleOf(n)}`).join(', ')})`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  let rejoining: (typeof nodes)[number] | null = null;
  await new Promise<void>((resolve) => {
    const schedule = (atMs: number, fn: () => void) => timers.push(setTimeout(fn, atMs));
    schedule(loadStartMs, startLoad);
    timers.push(setInterval(tick, 1_000));
    schedule(opts.killAtMs, () => {
      const victim = nodes.find((n) => roleOf(n) === 'primary') ?? nodes[0]!;
      killAt = now();
      opts.print(`--- SIGKILL ${victim.id} (the primary) ---`);
      victim.proc!.kill('SIGKILL');
      victim.proc = null;
    });
    schedule(opts.restartAtMs, () => {
      const dead = nodes.find((n) => n.proc === null);
      if (dead === undefined) return;
      opts.print(`--- restarting ${dead.id} ---`);
      dead.roleLog.length = 0;
      spawnNode(dead);
      rejoining = dead;
    });
    schedule(opts.durationMs, resolve);
  });
  for (const t of timers) clearInterval(t);
  // A loaded machine can take seconds to start a process: the restarted node gets as long as
  // the pair got at the start to take a role before the summary reads it.
  const rejoinBy = performance.now() + SETTLE_DEADLINE_MS;
  while (rejoining !== null && !['primary', 'standby'].includes(roleOf(rejoining)) && performance.now() < rejoinBy) {
    await new Promise((r) => setTimeout(r, 20));
  }
  // In-flight alerts finish or give up (bounded by their own deadline).
  await Promise.all([...inflight]);
  await new Promise((r) => setTimeout(r, MONITOR_ANSWER_MS));

  const stored = new Set(standIn.stats().alertIds);
  const lost = acceptedIds.filter((id) => !stored.has(id)).length;
  const killedAt = killAt as number | null;
  const survivor = nodes.find((n) => n.roleLog.some((l) => l.to === 'primary' && killedAt !== null && l.atMs - t0 > killedAt));
  const takeover = survivor?.roleLog.find((l) => l.to === 'primary' && killedAt !== null && l.atMs - t0 > killedAt);
  const restarted = nodes.find((n) => n !== survivor);
  const summary: DemoSummary = {
    alerts: { ...alerts, lost, maxDeliveryMs: Math.round(alerts.maxDeliveryMs) },
    monitor: { sent: monitor.sent, answered: monitor.answered, unanswered: monitor.sent - monitor.answered, answeredTwice: monitor.answeredTwice },
    bmcSent,
    switchMs: takeover && killedAt !== null ? Math.round(takeover.atMs - t0 - killedAt) : null,
    alertGapMs: firstAcceptAfterKill !== null && killedAt !== null ? Math.round(firstAcceptAfterKill - killedAt) : null,
    failovers: Math.max(0, terms.size - 1),
    restartedAs: restarted ? (restarted.roleLog.at(-1)?.to ?? null) : null,
    keepalives: standIn.stats().keepalives,
  };

  for (const n of nodes) n.proc?.kill('SIGTERM');
  await Promise.all(nodes.map((n) => (n.proc && n.proc.exitCode === null ? new Promise((r) => n.proc!.once('exit', r)) : undefined)));
  rx.close();
  tx.close();
  await standIn.close();
  rmSync(dir, { recursive: true, force: true });
  return summary;
}

function formatSummary(s: DemoSummary): string {
  return [
    'summary',
    `  alerts:   ${s.alerts.sent} sent, ${s.alerts.accepted} accepted, ${s.alerts.lost} lost (accepted but missing at the API), ` +
      `${s.alerts.gaveUp} given up; ${s.alerts.refusedAnswers} 503/502 answers followed; slowest delivery ${s.alerts.maxDeliveryMs} ms`,
    `  monitor:  ${s.monitor.sent} requests, ${s.monitor.answered} answered within ${MONITOR_ANSWER_MS} ms, ${s.monitor.unanswered} unanswered, ${s.monitor.answeredTwice} answered twice`,
    `  switch:   primary killed -> standby primary in ${s.switchMs ?? '?'} ms; first alert accepted by the new primary ${s.alertGapMs ?? '?'} ms after the kill`,
    `  restart:  the killed node rejoined as ${s.restartedAs ?? '?'}; keep-alives by node ${JSON.stringify(s.keepalives)}`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { 'duration-s': { type: 'string', default: '15' }, 'kill-at-s': { type: 'string', default: '5' }, 'restart-at-s': { type: 'string', default: '10' }, json: { type: 'boolean' } },
  });
  const seconds = (name: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) {
      process.stderr.write(`demo: --${name} must be a number of seconds (0 < s <= 3600), got ${JSON.stringify(v)}\n`);
      process.exit(2);
    }
    return n * 1000;
  };
  const durationMs = seconds('duration-s', values['duration-s']);
  const killAtMs = seconds('kill-at-s', values['kill-at-s']);
  const restartAtMs = seconds('restart-at-s', values['restart-at-s']);
  if (!(killAtMs < restartAtMs && restartAtMs < durationMs)) {
    process.stderr.write('demo: need --kill-at-s < --restart-at-s < --duration-s\n');
    process.exit(2);
  }
  process.stdout.write('hastate demo: two nodes of the reference application, the API stand-in, alerts at 20/s, monitor requests at 10/s, BMC at 5/s\n');
  const summary = await runDemo({ durationMs, killAtMs, restartAtMs, print: (l) => process.stdout.write(`${l}\n`) });
  process.stdout.write(`${values.json ? JSON.stringify(summary, null, 2) : formatSummary(summary)}\n`);
  process.exit(summary.alerts.lost === 0 ? 0 : 1);
}
