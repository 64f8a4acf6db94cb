/**
 * The processes a benchmark starts, and the guarantee that none outlives it: on normal exit,
 * on SIGINT/SIGTERM/SIGHUP and on an uncaught error, every child still running is killed.
 * Each child's output is kept line by line (bounded) so the benchmark can wait for a line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { onStopSignal } from './stop-signals.ts';

/** Lines kept per child: enough for start-up and role changes, bounded for a long window. */
const MAX_LINES = 2_000;
const STOP_GRACE_MS = 5_000;

export interface Child {
  label: string;
  kind: string;
  pid: number;
  lines: string[];
  exited: Promise<void>;
  waitForLine(match: (line: string) => boolean, deadlineMs: number, what: string): Promise<void>;
}

export class Children {
  readonly #live = new Map<Child, ChildProcess>();
  readonly #cleanups: (() => void)[] = [];
  #cleaned = false;

  constructor() {
    // Synchronous last resort: 'exit' handlers cannot wait, so SIGKILL whatever is left.
    process.on('exit', () => this.cleanup());
    onStopSignal((signal) => {
      process.stderr.write(`\n${signal}: stopping the benchmark's processes\n`);
      return this.stopAll();
    });
    process.on('uncaughtException', (error) => {
      process.stderr.write(`${error.stack ?? error.message}\n`);
      process.exit(1);
    });
  }

  onCleanup(fn: () => void): void {
    this.#cleanups.push(fn);
  }

  spawn(label: string, kind: string, args: string[]): Child {
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (proc.pid === undefined) throw new Error(`cannot start ${label}: node ${args.join(' ')}`);
    const lines: string[] = [];
    const waiters = new Set<(line: string) => void>();
    let exitCode: number | null | undefined;
    const exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        exitCode = code ?? (signal === null ? null : -1);
        this.#live.delete(child);
        resolve();
      });
    });
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (lines.length > MAX_LINES) lines.shift();
        for (const w of waiters) w(line);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    const child: Child = {
      label,
      kind,
      pid: proc.pid,
      lines,
      exited,
      waitForLine: (match, deadlineMs, what) =>
        new Promise<void>((resolve, reject) => {
          if (lines.some(match)) return resolve();
          const started = performance.now();
          const done = (error?: Error) => {
            clearTimeout(timer);
            waiters.delete(onLine);
            if (error) reject(error);
            else resolve();
          };
          const onLine = (line: string) => {
            if (match(line)) done();
          };
          const timer = setTimeout(() => {
            const tail = lines.slice(-10).join('\n');
            done(new Error(`${what}: not seen within ${Math.round(performance.now() - started)} ms (exit code ${String(exitCode)}); last output:\n${tail}`));
          }, deadlineMs);
          waiters.add(onLine);
          void exited.then(() => done(new Error(`${what}: ${label} exited (code ${String(exitCode)}); last output:\n${lines.slice(-10).join('\n')}`)));
        }),
    };
    this.#live.set(child, proc);
    return child;
  }

  /** SIGTERM to every live child, SIGKILL to those still running after the grace period. */
  async stopAll(): Promise<void> {
    const live = [...this.#live];
    for (const [, proc] of live) proc.kill('SIGTERM');
    await Promise.all(
      live.map(async ([child, proc]) => {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, STOP_GRACE_MS);
        });
        await Promise.race([child.exited, grace]);
        clearTimeout(timer);
        if (this.#live.has(child)) {
          proc.kill('SIGKILL');
          await child.exited;
        }
      }),
    );
  }

  /** Synchronous: SIGKILL to every live child, then the registered clean-ups (once). */
  cleanup(): void {
    for (const [, proc] of this.#live) proc.kill('SIGKILL');
    this.#live.clear();
    if (this.#cleaned) return;
    this.#cleaned = true;
    for (const fn of this.#cleanups) {
      try {
        fn();
      } catch (error) {
        process.stderr.write(`cleanup failed: ${(error as Error).message}\n`);
      }
    }
  }
}
