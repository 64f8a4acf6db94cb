/**
 * hastate as an npm package, the way a new user meets it: the tarball `npm pack` makes (with
 * its `prepare` build) is linted (publint, attw) and installed into a fresh project outside the
 * repository, where a plain JavaScript app, a strict TypeScript app, a CommonJS module and the
 * `hastate` command all run against it with plain node.
 *
 * One pack and one install for the whole file: both cost seconds of CPU on a shared machine.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../integration/cluster.ts';
import { CJS_APP, JS_APP, TS_APP, TS_CONFIG, TS_REQUIRE_APP } from './apps.ts';
import { consumerProject, node, pack, ROOT, userEnv, type Tarball } from './consumer.ts';

const run = promisify(execFile);
const BIN = join(ROOT, 'node_modules/.bin');
const SETUP_TIMEOUT_MS = 360_000;

let tarball: Tarball;
let app: string;
let installed: string;

/** A file no source compiles to: `prepare` must rebuild dist/ from scratch, not pack what is lying there. */
const LEFT_OVER = 'dist/src/left-over.js';

beforeAll(async () => {
  mkdirSync(join(ROOT, 'dist/src'), { recursive: true });
  writeFileSync(join(ROOT, LEFT_OVER), 'throw new Error("stale build");\n');
  tarball = await pack();
  app = await consumerProject(tarball.file);
  installed = join(app, 'node_modules/hastate');
}, SETUP_TIMEOUT_MS);

// Each install is about 15 MB in the temporary folder.
afterAll(() => {
  if (app !== undefined) rmSync(app, { recursive: true, force: true });
  if (tarball !== undefined) rmSync(dirname(tarball.file), { recursive: true, force: true });
});

/** Everything the package may hold: the build, its sources (for the maps), the CLI and the live view's diagrams. */
const ALLOWED = /^(package\.json|README\.md|LICENSE|bin\/hastate\.js|visualizations\/(role|lease)\.svg|dist\/(src|machines)\/.+\.(js|d\.ts)(\.map)?|(src|machines)\/.+\.ts)$/;

describe('the tarball', () => {
  it('holds the build with declarations and maps, the CLI and the diagrams, and nothing else (no tests, scripts, CI)', () => {
    expect(tarball.files.filter((f) => !ALLOWED.test(f))).toEqual([]);
    expect(tarball.files).not.toContain(LEFT_OVER);
    for (const entry of ['src/index', 'src/testing/index', 'src/reference/index', 'machines/index', 'src/cli/main']) {
      for (const ext of ['.js', '.js.map', '.d.ts', '.d.ts.map']) expect(tarball.files).toContain(`dist/${entry}${ext}`);
    }
    expect(tarball.files).toEqual(expect.arrayContaining(['LICENSE', 'bin/hastate.js', 'visualizations/role.svg', 'visualizations/lease.svg', 'src/index.ts']));
  });

  it('depends at run time on neither tsx nor typescript', () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(Object.keys(pkg.dependencies)).not.toContain('typescript');
    expect(readFileSync(join(installed, 'bin/hastate.js'), 'utf8')).not.toMatch(/tsx/);
  });

  it('has declarations whose relative imports name .js files, not .ts', () => {
    const offenders: string[] = [];
    for (const file of readdirSync(join(installed, 'dist'), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.d.ts')) continue;
      const text = readFileSync(join(installed, 'dist', file), 'utf8');
      for (const m of text.matchAll(/['"](\.\.?\/[^'"]*)['"]/g)) if (/\.[cm]?ts$/.test(m[1]!) && !/\.d\.[cm]?ts$/.test(m[1]!)) offenders.push(`${file}: ${m[1]}`);
    }
    expect(offenders).toEqual([]);
  });

  it('passes publint --strict with no suggestion', async () => {
    const { stdout } = await run(join(BIN, 'publint'), ['run', tarball.file, '--strict'], { cwd: ROOT });
    expect(stdout).toContain('All good');
  });

  it('passes attw with the esm-only profile (no CommonJS build; require() is Node\'s require(esm))', async () => {
    // Rejects with attw's table on stdout when a problem is found.
    await run(join(BIN, 'attw'), [tarball.file, '--profile', 'esm-only', '--format', 'ascii'], { cwd: ROOT });
  }, 60_000);
});

describe('a plain JavaScript ESM app', () => {
  it('defines a service and runs an HaNode that becomes primary, and the service is told so', async () => {
    writeFileSync(join(app, 'app.js'), JS_APP);
    const out = JSON.parse(await node(app, ['app.js'])) as { told: { to: string; epoch: number }; role: string };
    expect(out.told.to).toBe('primary');
    expect(out.told.epoch).toBeGreaterThan(0);
    expect(out.role).toBe('primary');
  }, 60_000);
});

describe('a strict TypeScript app (module nodenext)', () => {
  it('type-checks against the shipped types and runs after tsc, ESM and CommonJS (.cts)', async () => {
    const dir = join(app, 'ts');
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'tsconfig.json'), TS_CONFIG(join(ROOT, 'node_modules/@types')));
    writeFileSync(join(dir, 'src/app.ts'), TS_APP);
    writeFileSync(join(dir, 'src/require.cts'), TS_REQUIRE_APP);
    // The repository's compiler: nothing to download. Rejects with tsc's errors on stdout.
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, timeout: 120_000 }).catch((e: { stdout?: string }) => {
      throw new Error(`tsc failed in the consumer project:\n${e.stdout ?? String(e)}`);
    });

    const out = JSON.parse(await node(dir, ['out/app.js'])) as { told: { to: string }; role: string; entries: Record<string, string> };
    expect(out).toMatchObject({ told: { to: 'primary' }, role: 'primary' });
    expect(out.entries).toEqual({ machine: 'role', reference: 'function', clock: 'number', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(JSON.parse(await node(dir, ['out/require.cjs']))).toEqual({ haNode: 'function', machine: 'role' });
  }, 180_000);
});

describe('require() from CommonJS', () => {
  beforeAll(() => writeFileSync(join(app, 'require.cjs'), CJS_APP));

  it('loads the same ESM module instance as import, for every entry point', async () => {
    const out = JSON.parse(await node(app, ['require.cjs'])) as { same: boolean; haNode: string; subpaths: number[]; version: string };
    expect(out).toMatchObject({ same: true, haNode: 'function' });
    expect(out.subpaths.every((n) => n > 0)).toBe(true);
  }, 60_000);

  it('fails with Node\'s ERR_REQUIRE_ESM, which says to use import(), where require(esm) is off (Node before 20.19)', async () => {
    const failure = await node(app, ['--no-experimental-require-module', 'require.cjs']).then(
      () => null,
      (e: { stderr?: string }) => e.stderr ?? '',
    );
    expect(failure).toContain('ERR_REQUIRE_ESM');
    expect(failure).toContain('dynamic import()');
  }, 60_000);
});

describe('the hastate command, run by npx in the app', () => {
  const npx = (args: string[]) => run('npx', ['--no', '--', 'hastate', ...args], { cwd: app, env: userEnv(), timeout: 30_000 });

  it('prints its version, validates a config, runs a node and reports its status and live view', async () => {
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string };
    expect((await npx(['--version'])).stdout.trim()).toBe(pkg.version);

    const port = await freePort();
    const file = join(app, 'single.yaml');
    writeFileSync(file, `ha:\n  backend: single\n  interface: 127.0.0.1\n  node_id: cli-app\nstatus:\n  host: 127.0.0.1\n  port: ${port}\n`);
    expect((await npx(['validate', file])).stdout).toContain('valid');

    // Its own process group, so the node under npx is stopped with it.
    const proc = spawn('npx', ['--no', '--', 'hastate', 'run', '--config', file, '--log', 'json'], { cwd: app, env: userEnv(), stdio: 'ignore', detached: true });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    try {
      const status = async () => {
        try {
          return JSON.parse((await npx(['status', '--config', file, '--json'])).stdout) as { role: string; version: string };
        } catch {
          return { role: 'unreachable', version: '' }; // exit code 3 until it listens
        }
      };
      await expect.poll(status, { timeout: 60_000, interval: 250 }).toMatchObject({ role: 'primary', version: pkg.version });
      // The live view inlines the diagram it reads from the package's visualizations/.
      const page = await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5_000) })).text();
      expect(page).toContain('id="state-primary"');
    } finally {
      process.kill(-proc.pid!, 'SIGTERM');
      const killer = setTimeout(() => process.kill(-proc.pid!, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
  }, 120_000);
});
