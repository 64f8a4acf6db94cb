/**
 * The cost of one heartbeat on each path, in process (no other node, no event-loop noise):
 *  - receive: a primary's heartbeat datagram through the transport core (framing, decode, auth
 *    off, own-id check, peer table, metrics listener) to the role machine's transition in a
 *    standby, with a snapshot subscriber doing what HaNode's does;
 *  - send: the standby's SEND event through the core (sequence, encode) onto a real UDP socket
 *    joined to a loopback multicast group (so the kernel's loopback delivery is included).
 * Each is measured hot (batches back to back, the code optimized by V8) and paced (one
 * datagram every `--pace-ms`, as in production, where the code stays cold: first before any
 * hot run, as a fresh node, then again after them, optimized but with cold caches); medians in µs.
 * CPU time (process.cpuUsage) is reported next to wall time for the paced send.
 *
 * `--peers N` (default 1) starts N floor processes (scripts/bench/floor.mjs, silent) joined to
 * the send group, so that each send wakes other processes as it does on a real segment; the
 * send line then says how many sends saw this thread preempted (an involuntary context switch,
 * /proc/thread-self/status) and their wall time: the time a sampling profiler charges to
 * node:dgram's doSend although the CPU is someone else's.
 *
 * Usage: npx tsx scripts/bench/datagram-path.ts [--paced 100] [--pace-ms 100] [--peers 1]
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { createActor, fromCallback } from 'xstate';
import { roleMachine, roleOfSnapshot, type RoleEvent, type SendEvent } from '../../machines/role.machine.ts';
import { createTransportCore, type DatagramSocket } from '../../src/transport/core.ts';
import { encodeMessage } from '../../src/transport/codec.ts';
import { median } from './proc-sample.ts';
import { Children } from './children.ts';
import { bytesPerCall } from './alloc-sample.ts';

const { values } = parseArgs({ options: { paced: { type: 'string', default: '100' }, 'pace-ms': { type: 'string', default: '100' }, peers: { type: 'string', default: '1' } } });
const peers = Number(values.peers);
if (!Number.isInteger(peers) || peers < 0 || peers > 16) throw new Error(`--peers must be an integer in 0..16, got ${values.peers}`);
const paced = Number(values.paced);
const paceMs = Number(values['pace-ms']);
if (!Number.isInteger(paced) || paced < 5 || paced > 10_000) throw new Error(`--paced must be an integer in 5..10000, got ${values.paced}`);
if (!Number.isFinite(paceMs) || paceMs < 1 || paceMs > 10_000) throw new Error(`--pace-ms must be a number in 1..10000, got ${values['pace-ms']}`);

const HOT_BATCHES = 21;
const HOT_BATCH = 2_000;
const SELF = '127.0.0.3';
const PRIMARY = '127.0.0.2';
const sender = { address: PRIMARY, port: 9999 };

const clock = { wallMs: Date.now, monotonicMs: () => performance.now(), afterPendingIo: (fn: () => void) => { const h = setImmediate(fn); return () => clearImmediate(h); } };
const core = createTransportCore({ nodeId: SELF, log: null, clock, startSequence: 1 });
// The metrics listener's shape of work per datagram (a Map lookup and a store).
const lastFrom = new Map<string, number>();
core.stats.messageListeners.add((m, nowMs) => {
  if (m.role === 'primary' && m.type === 'heartbeat') lastFrom.set(m.nodeId, nowMs);
});

let socket: DatagramSocket | null = null;
const transport = fromCallback<SendEvent, { nodeId: string }>(({ receive }) => {
  receive((event) => core.handleSend(socket, event));
});
// Long timers: only the datagrams drive the machine during the measurement.
const timing = { electionWindowMs: 3_600_000, heartbeatIntervalMs: 3_600_000, heartbeatTimeoutMs: 4 * 3_600_000 };
const actor = createActor(roleMachine.provide({ actors: { transport } }), { input: { nodeId: SELF, priority: 0, mode: 'standby', timing } });
let seen = 0;
let subscriberMs = 0;
actor.subscribe((snapshot) => {
  const t0 = performance.now();
  // What HaNode's subscriber reads on every snapshot.
  seen = Math.max(seen, snapshot.context.epoch, snapshot.context.maxSeenEpoch);
  roleOfSnapshot(snapshot);
  subscriberMs += performance.now() - t0;
});
actor.start();
core.stats.up = true;
actor.send({ type: 'TRANSPORT.UP' });

let sequence = 0;
const heartbeat = () => encodeMessage({ type: 'heartbeat', role: 'primary', priority: 0, sequence: ++sequence, timestampMs: Date.now(), epoch: 1, nodeId: PRIMARY });
/** Wall time of the last receiveOne's parts, ms: transport core, machine (subscriber included). */
const split = { coreMs: 0, machineMs: 0 };
const receiveOne = (data: Uint8Array) => {
  const t0 = performance.now();
  const event: RoleEvent | null = core.handleDatagram(data, sender);
  if (event === null) throw new Error('the benchmark datagram was dropped');
  const t1 = performance.now();
  actor.send(event);
  split.coreMs = t1 - t0;
  split.machineMs = performance.now() - t1;
};
receiveOne(heartbeat());
if (roleOfSnapshot(actor.getSnapshot()) !== 'standby' || actor.getSnapshot().context.primaryId !== PRIMARY) throw new Error('the standby does not follow the benchmark primary');

function hot(run: (i: number) => void): number {
  const perBatch: number[] = [];
  for (let b = 0; b < HOT_BATCHES; b++) {
    const t0 = performance.now();
    for (let i = 0; i < HOT_BATCH; i++) run(i);
    perBatch.push(((performance.now() - t0) * 1000) / HOT_BATCH);
  }
  return median(perBatch);
}

async function pacedRun(run: () => void | Promise<void>): Promise<{ wallUs: number; cpuUs: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < paced; i++) {
    await sleep(paceMs);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run();
    wall.push((performance.now() - t0) * 1000);
    const c = process.cpuUsage(c0);
    cpu.push(c.user + c.system);
  }
  return { wallUs: median(wall), cpuUs: median(cpu) };
}

const datagrams = Array.from({ length: HOT_BATCH }, heartbeat);
console.log(`datagram path, node ${process.version}; paced: ${paced} datagrams ${paceMs} ms apart; hot: median of ${HOT_BATCHES} batches of ${HOT_BATCH}`);
// Paced first, while the code is as cold as a node's at its heartbeat rate.
const parts = { core: [] as number[], machine: [] as number[], subscriber: [] as number[] };
const rxPaced = await pacedRun(() => {
  subscriberMs = 0;
  receiveOne(heartbeat());
  parts.core.push(split.coreMs * 1000);
  parts.machine.push((split.machineMs - subscriberMs) * 1000);
  parts.subscriber.push(subscriberMs * 1000);
});
const decodeHot = hot((i) => core.handleDatagram(datagrams[i]!, sender));
const rxHot = hot((i) => receiveOne(datagrams[i]!));
const allocCore = await bytesPerCall(HOT_BATCH, (i) => core.handleDatagram(datagrams[i]!, sender));
const allocReceive = await bytesPerCall(HOT_BATCH, (i) => receiveOne(datagrams[i]!));
const nullSocket: DatagramSocket = { send: (_data, done) => done(null) };
const beat: SendEvent = { type: 'SEND', message: { type: 'heartbeat', role: 'standby', nodeId: SELF, priority: 0, epoch: 1 } };
const allocSend = await bytesPerCall(HOT_BATCH, () => core.handleSend(nullSocket, beat));
// Paced again, now that V8 has optimized the path: what is left is the cost of cold caches.
const rxPacedAfterHot = await pacedRun(() => receiveOne(heartbeat()));

const group = '239.255.77.77';
const port = 30_000 + Math.floor(Math.random() * 10_000);
const udp = dgram.createSocket({ type: 'udp4', reuseAddr: true });
udp.on('message', () => {});
await new Promise<void>((resolve) => udp.bind({ port, address: group }, resolve));
udp.addMembership(group, '127.0.0.1');
udp.setMulticastInterface('127.0.0.1');
udp.setMulticastLoopback(true);
const children = new Children();
for (let i = 0; i < peers; i++) {
  const peer = children.spawn(`peer ${i + 1}`, 'floor', [join(import.meta.dirname, 'floor.mjs'), '--group', group, '--port', String(port), '--interval-ms', '3600000']);
  await peer.waitForLine((l) => l === 'floor: up', 10_000, `peer ${i + 1} up`);
}
const preemptions = () => Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync('/proc/thread-self/status', 'utf8'))?.[1] ?? Number.NaN);
let sent: (() => void) | null = null;
socket = {
  send: (data, done) =>
    udp.send(data, port, group, (error) => {
      done(error ?? null);
      sent?.();
    }),
};
const send: SendEvent = { type: 'SEND', message: { type: 'heartbeat', role: 'standby', nodeId: SELF, priority: 0, epoch: 1 } };
// Until the send callback: node:dgram sends on a later tick (after its address lookup), and that
// is where the system call and the kernel's loopback delivery are.
const preempted: number[] = [];
let switchesBefore = 0;
let t0 = 0;
const txPaced = await pacedRun(
  () =>
    new Promise<void>((resolve) => {
      sent = () => {
        const wallUs = (performance.now() - t0) * 1000;
        if (preemptions() > switchesBefore) preempted.push(wallUs);
        resolve();
      };
      switchesBefore = preemptions();
      t0 = performance.now();
      core.handleSend(socket, send);
    }),
);
udp.close();
await children.stopAll();
children.cleanup();

const f = (us: number) => `${us.toFixed(1)} µs`;
console.log(`receive, decode to machine transition: paced ${f(rxPaced.wallUs)} wall, ${f(rxPaced.cpuUs)} CPU; hot ${f(rxHot)} (of which transport core ${f(decodeHot)}); paced after the hot runs ${f(rxPacedAfterHot.wallUs)} wall, ${f(rxPacedAfterHot.cpuUs)} CPU`);
console.log(`allocated per datagram: received ${allocReceive.toFixed(0)} B (transport core ${allocCore.toFixed(0)} B, the rest the role machine and subscriber); sent (core, without the socket) ${allocSend.toFixed(0)} B`);
console.log(`  paced parts (medians): transport core ${f(median(parts.core))}, role machine ${f(median(parts.machine))}, HaNode-like snapshot subscriber ${f(median(parts.subscriber))}`);
console.log(`send, SEND event to the send callback (incl. the system call and kernel loopback delivery to ${peers + 1} sockets): paced ${f(txPaced.wallUs)} wall, ${f(txPaced.cpuUs)} CPU`);
console.log(`  sends preempted (involuntary context switch): ${preempted.length} of ${paced}${preempted.length > 0 ? `, their median wall time ${f(median(preempted))}` : ''}`);
actor.stop();
