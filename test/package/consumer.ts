/**
 * The package as a user gets it: `npm pack` of this repository (which runs `prepare`, so the
 * build) and a fresh project outside the repository with the tarball installed, as a new user
 * would, from the npm cache that `npm ci` filled.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = join(import.meta.dirname, '../..');
const run = promisify(execFile);
/** npm pack with its build, or an install, under a loaded 2-core machine: generous, but bounded. */
const NPM_TIMEOUT_MS = 180_000;

export interface Tarball {
  file: string;
  /** Bytes, compressed. */
  size: number;
  unpackedSize: number;
  files: string[];
}

/** The environment of a user's shell: no HASTATE_* overrides leaking in from the test run. */
export function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_')));
}

export async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, env: userEnv(), timeout: NPM_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** `npm pack` into a temporary folder; `prepare` builds dist/ first. */
export async function pack(): Promise<Tarball> {
  const dest = mkdtempSync(join(tmpdir(), 'hastate-pack-'));
  const out = await npm(['pack', '--json', '--pack-destination', dest], ROOT);
  // prepare's own output (the build) goes to stderr; stdout is the JSON report.
  const [report] = JSON.parse(out) as [{ filename: string; size: number; unpackedSize: number; files: { path: string }[] }];
  return { file: join(dest, report.filename), size: report.size, unpackedSize: report.unpackedSize, files: report.files.map((f) => f.path) };
}

/** A new ESM project with the tarball installed (production dependencies only, as a user gets them). */
export async function consumerProject(tarball: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hastate-consumer-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], dir);
  return dir;
}

/** Runs a file with plain node in the project; resolves with stdout, rejects with stderr on failure. */
export async function node(dir: string, args: string[], timeoutMs = 30_000): Promise<string> {
  const { stdout } = await run(process.execPath, args, { cwd: dir, env: userEnv(), timeout: timeoutMs });
  return stdout;
}
