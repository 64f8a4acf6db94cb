import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HASTATE_')));

function hastate(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', env, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string) {
  const path = join(mkdtempSync(join(tmpdir(), 'hastate-cli-forms-')), name);
  writeFileSync(path, text);
  return path;
}

/** An application's config file (JSONC) with hastate's keys under "hastate". */
const APP = [
  '{',
  '  // the application',
  '  "database": { "url": "postgres://db/app" },',
  '  "hastate": {',
  '    "ha": { "interface": "127.0.0.1", "node_id": "app-1", "priority": 7, "backend": "single" },',
  '    "status": { "port": 0 } /* any free port */',
  '  }',
  '}',
  '',
].join('\n');

describe('hastate CLI with an application\'s config file', () => {
  it('validate --section reads hastate\'s keys from the section of a JSONC file', () => {
    const path = file('app.json', APP);
    const r = hastate(['validate', path, '--section', 'hastate']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`# ${path} (section hastate): valid.`);
    expect(r.stdout).toMatch(/priority: 7\n/);
    expect(r.stdout).not.toContain('database');
  });

  it('validate --section: a typo names file, line, column and the full key path; exit 2', () => {
    const path = file('app.json', APP.replace('"priority"', '"priorty"'));
    const r = hastate(['validate', path, '--section', 'hastate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path}:5:59: hastate.ha.priorty: unknown key; did you mean hastate.ha.priority?`);
  });

  it('validate without the section refuses the application\'s keys; a missing section is named', () => {
    const path = file('app.json', APP);
    expect(hastate(['validate', path]).stderr).toContain(`${path}:3:3: database: unknown key`);
    const r = hastate(['validate', path, '--section', 'hastat']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path}:1:1: (root): section hastat not found; did you mean hastate?`);
  });

  it('validate --app-sections: the seed\'s layout, hastate\'s keys at the top level', () => {
    const path = file('seed.json', '{\n  "database": {},\n  "ha": { "interface": "127.0.0.1", "priority": 0 }, // 0 = compare addresses\n  "hq": 1\n}\n');
    expect(hastate(['validate', path, '--app-sections', 'database,hq']).code).toBe(0);
    const star = hastate(['validate', path, '--app-sections', '*']);
    expect(star.code).toBe(2);
    expect(star.stderr).toContain(`${path}:4:3: hq: unknown key; did you mean ha?`);
    const empty = hastate(['validate', path, '--app-sections', ' ']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^hastate: --app-sections needs a comma-separated list of names, or \*/);
  });

  it('validate: a comment that never closes is one problem, exit 2', () => {
    const path = file('app.jsonc', '{\n  "ha": {} /* oops\n}\n');
    const r = hastate(['validate', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${path}:2:12: (json): comment /* never closes`);
  });

  it('run --section with a bad section starts nothing and exits 2', () => {
    const r = hastate(['run', '--config', file('app.json', APP), '--section', 'database']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/database\.url: unknown key/);
    expect(r.stdout).toBe('');
  });
});

describe('hastate run with a section of an application\'s file (real process)', () => {
  let child: ReturnType<typeof spawn> | undefined;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('starts the node configured by the section, serves status, and stops on SIGTERM', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '--config', file('app.json', APP), '--section', 'hastate', '--log', 'json'], {
      cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    await expect.poll(() => /status endpoint on (http:\/\/127\.0\.0\.1:\d+)\/status/.exec(out)?.[1], { timeout: 20_000 }).toBeTruthy();
    const url = /status endpoint on (http:\/\/127\.0\.0\.1:\d+)\/status/.exec(out)![1]!;
    await expect.poll(async () => ((await (await fetch(`${url}/status`)).json()) as { nodeId?: string; role?: string }), { timeout: 20_000 })
      .toMatchObject({ nodeId: 'app-1', role: 'primary' });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
