/**
 * Real coordinator servers for the backend tests, started by the test on loopback ports of its
 * own (so a test can stop and restart one) from the Debian packages redis-server and
 * etcd-server. Every start waits for the server to answer, with a deadline.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../integration/cluster.ts';

const START_DEADLINE_MS = 10_000;

export const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

async function until(what: string, probe: () => Promise<boolean>, deadlineMs: number): Promise<void> {
  const end = performance.now() + deadlineMs;
  while (performance.now() < end) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not answer within ${deadlineMs} ms`);
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export interface TestServer {
  url: string;
  start(): Promise<void>;
  /** SIGKILL: the coordinator disappears without a goodbye. */
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  destroy(): Promise<void>;
}

abstract class Server implements TestServer {
  protected proc: ChildProcess | null = null;
  abstract url: string;
  abstract start(): Promise<void>;
  async kill(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (p === null || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }
  resume(): void {
    this.proc?.kill('SIGCONT');
  }
  async destroy(): Promise<void> {
    this.resume();
    await this.kill();
  }
}

export class RedisServer extends Server {
  private constructor(readonly port: number) {
    super();
  }
  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }
  static async create(): Promise<RedisServer> {
    const s = new RedisServer(await freePort());
    await s.start();
    return s;
  }
  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' });
    await until(`redis-server on ${this.port}`, () => redisPing(this.port), START_DEADLINE_MS);
  }
}

export class EtcdServer extends Server {
  readonly dir = mkdtempSync(join(tmpdir(), 'hastate-etcd-'));
  private constructor(
    readonly port: number,
    readonly peerPort: number,
  ) {
    super();
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  static async create(): Promise<EtcdServer> {
    const s = new EtcdServer(await freePort(), await freePort());
    await s.start();
    return s;
  }
  async start(): Promise<void> {
    const client = `http://127.0.0.1:${this.port}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.proc = spawn(
      'etcd',
      ['--name', 'hs', '--data-dir', this.dir, '--listen-client-urls', client, '--advertise-client-urls', client, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `hs=${peer}`, '--heartbeat-interval', '50', '--election-timeout', '250'],
      { stdio: 'ignore', env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.env.ETCD_UNSUPPORTED_ARCH ?? '' } },
    );
    await until(`etcd on ${this.port}`, async () => {
      try {
        const res = await fetch(`${client}/health`, { signal: AbortSignal.timeout(500) });
        return res.ok && ((await res.json()) as { health?: string }).health === 'true';
      } catch {
        return false;
      }
    }, START_DEADLINE_MS);
  }
  override async destroy(): Promise<void> {
    await super.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The lease backends the tests run against; a test skips the ones whose server is not installed. */
export const BACKENDS = [
  { name: 'redis' as const, available: have('redis-server'), create: (): Promise<TestServer> => RedisServer.create() },
  { name: 'etcd' as const, available: have('etcd'), create: (): Promise<TestServer> => EtcdServer.create() },
];
