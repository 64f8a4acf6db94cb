/**
 * deploy/docker/Dockerfile. No Docker engine runs where these tests run, so the image is not
 * built here: the tests check the build's structure (stages, what reaches the runtime stage,
 * the user, the health check) and run the health check's own command against a real node.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, randomNetwork, startNode, stopAll, type NodeProcess } from '../integration/cluster.ts';
import { DockerfileError, execForm, parseDockerfile, type Stage } from './dockerfile.ts';

const ROOT = join(import.meta.dirname, '../..');
const NAME = 'deploy/docker/Dockerfile';
const { stages } = parseDockerfile(readFileSync(join(ROOT, NAME), 'utf8'), NAME);
const runtime = stages.at(-1)!;
const build = stages[0]!;
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const runs = (stage: Stage) => all(stage, 'RUN').map((i) => i.args).join('\n');

function healthcheckCommand(): string[] {
  const [check, ...more] = all(runtime, 'HEALTHCHECK');
  expect(check, 'the runtime stage has a HEALTHCHECK').toBeDefined();
  expect(more).toEqual([]);
  const m = /^((?:--\S+\s+)*)CMD\s+(.*)$/.exec(check!.args);
  if (!m) throw new Error(`${NAME}:${check!.line}: HEALTHCHECK without CMD`);
  return execForm(m[2]!, `${NAME}:${check!.line}`);
}

describe('the Dockerfile', () => {
  it('has a build stage that installs, compiles and packs, and a separate runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build.name).toBe('build');
    expect(runs(build)).toMatch(/\bnpm ci\b/);
    expect(runs(build)).toMatch(/\bnpm run build\b/);
    expect(runs(build)).toMatch(/\bnpm pack\b/);
    // The production install that the runtime stage copies leaves the dev dependencies out.
    expect(runs(build)).toMatch(/\bnpm ci --omit=dev\b/);
  });

  it('copies only the production install into the runtime stage: no build context, no dev dependencies', () => {
    const copies = [...all(runtime, 'COPY'), ...all(runtime, 'ADD')];
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      // Only from the build stage, and only the packed package with its production node_modules.
      expect(copy.args, `${NAME}:${copy.line}`).toMatch(/^--from=build\s+\/opt\/hastate\s+\S+$/);
    }
    expect(runs(runtime)).not.toMatch(/\bnpm (ci|install)\b/);
  });

  it('runs as a user that is not root', () => {
    const users = all(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args.split(':')[0];
    expect(['root', '0']).not.toContain(user);
    // The user is set after the last instruction that needs root (creating users, chown).
    expect(all(runtime, 'RUN').every((i) => i.line < users.at(-1)!.line)).toBe(true);
  });

  it('stops with SIGTERM, runs hastate, and keeps its state in a volume at $STATE_DIRECTORY', () => {
    expect(all(runtime, 'STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
    expect(execForm(all(runtime, 'ENTRYPOINT')[0]!.args, 'ENTRYPOINT')).toEqual(['hastate']);
    expect(execForm(all(runtime, 'CMD')[0]!.args, 'CMD')[0]).toBe('run');
    const env = all(runtime, 'ENV').map((i) => i.args).join(' ');
    expect(env).toContain('STATE_DIRECTORY=/var/lib/hastate');
    expect(env).toContain('HASTATE_CONFIG=/etc/hastate/hastate.yaml');
    expect(all(runtime, 'VOLUME').map((i) => i.args).join(' ')).toContain('/var/lib/hastate');
  });

  it("checks health on /healthz with node's own fetch (the image has no curl)", () => {
    const command = healthcheckCommand();
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toContain('/healthz');
    expect(command.join(' ')).not.toMatch(/\b(curl|wget)\b/);
  });

  it('keeps host dependencies and build output out of the build context', () => {
    const ignored = readFileSync(join(ROOT, 'deploy/docker/Dockerfile.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist']));
  });
});

describe('the health check command, run against a real node', () => {
  const nodes: NodeProcess[] = [];
  afterAll(() => stopAll(nodes));

  it('succeeds against a running node and fails when nothing answers', async () => {
    const command = healthcheckCommand();
    const node = await startNode({ nodeId: '127.0.0.1', ...randomNetwork() });
    nodes.push(node);
    await node.waitForRole('primary', 10_000);
    const check = (port: number) => spawnSync(process.execPath, command.slice(1), { env: { ...process.env, HASTATE_STATUS_PORT: String(port) }, timeout: 10_000 }).status;
    expect(check(node.statusPort)).toBe(0);
    expect(check(await freePort())).toBe(1);
  });
});

describe('the Dockerfile parser', () => {
  it('joins continuations across comment lines and splits stages', () => {
    const parsed = parseDockerfile('ARG B=x\nFROM a AS one\nRUN x \\\n# note\n  && y\nFROM b\nUSER u\n');
    expect(parsed.globalArgs.map((i) => i.args)).toEqual(['B=x']);
    expect(parsed.stages.map((s) => [s.name, s.image])).toEqual([['one', 'a'], [null, 'b']]);
    expect(parsed.stages[0]!.instructions[0]).toEqual({ keyword: 'RUN', args: 'x && y', line: 3 });
  });

  it('names the line of what it cannot read', () => {
    expect(() => parseDockerfile('FROM a\nFETCH b\n', 'D')).toThrow(new DockerfileError('D:2: not an instruction: "FETCH b"'));
    expect(() => parseDockerfile('RUN x\n', 'D')).toThrow('D:1: RUN before the first FROM');
    expect(() => execForm('node -e 1', 'D:3')).toThrow('D:3: not exec form');
  });
});
