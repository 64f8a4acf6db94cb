/**
 * The small apps a new user would write against the installed package. Kept as text, not as
 * files of this repository: the repository's own typecheck would resolve `hastate` to itself.
 *
 * Each app runs one node on the `single` backend (no network needed), prints one JSON line
 * when its service is told the node is primary, stops the node and exits 0; a bound makes it
 * exit 1 instead of hanging when that never happens.
 */
const SINGLE = String.raw`ha:\n  backend: single\n  interface: 127.0.0.1\n  node_id: `;

/** Plain JavaScript, ESM (the project's package.json has "type": "module"). */
export const JS_APP = `
import { HaNode, createLogger, defineService, parseConfigText } from 'hastate';

const config = parseConfigText('${SINGLE}js-app\\n', 'app.js', { env: {} });
setTimeout(() => { console.error('never told primary within 20 s'); process.exit(1); }, 20_000).unref();
const probe = defineService({
  name: 'probe',
  async onRoleChange(t) {
    if (t.to !== 'primary') return;
    // Reported after the hook returns: stop() waits for running hooks.
    setImmediate(async () => {
      console.log(JSON.stringify({ told: t, role: node.status().role }));
      await node.stop();
    });
  },
});
const node = new HaNode({ config, logger: createLogger({ level: 'warn', destination: process.stderr }), services: [probe] });
node.start();
`;

/** Strict TypeScript: every entry point, and type errors that only real (not `any`) types catch. */
export const TS_APP = `
import { HaNode, createLogger, defineService, parseConfigText, type RoleTransition, type NodeStatus } from 'hastate';
import { ManualClock } from 'hastate/testing';
import { roleMachine } from 'hastate/machines';
import { referenceServices } from 'hastate/reference';
import pkg from 'hastate/package.json' with { type: 'json' };

const config = parseConfigText('${SINGLE}ts-app\\n', 'app.ts', { env: {} });
const clock: ManualClock = new ManualClock();
const entries = { machine: roleMachine.id, reference: typeof referenceServices, clock: typeof clock.now(), version: pkg.version };

// @ts-expect-error a service without a name is rejected: the shipped types are not \`any\`
defineService({ async start() {} });
// @ts-expect-error a role is one of four names, not any string
const wrong: RoleTransition['to'] = 'leader';
void wrong;

setTimeout(() => { console.error('never told primary within 20 s'); process.exit(1); }, 20_000).unref();
const probe = defineService({
  name: 'probe',
  async onRoleChange(t: RoleTransition): Promise<void> {
    if (t.to !== 'primary') return;
    setImmediate(async () => {
      const status: NodeStatus = node.status();
      console.log(JSON.stringify({ told: t, role: status.role, entries }));
      await node.stop();
    });
  },
});
const node = new HaNode({ config, logger: createLogger({ level: 'warn', destination: process.stderr }), services: [probe] });
node.start();
`;

/** A strict TypeScript CommonJS module (.cts): require() of the ESM package, typed. */
export const TS_REQUIRE_APP = `
import hastate = require('hastate');
import machines = require('hastate/machines');

const haNode: typeof hastate.HaNode = hastate.HaNode;
console.log(JSON.stringify({ haNode: typeof haNode, machine: machines.roleMachine.id }));
`;

export const TS_CONFIG = (typeRoots: string) =>
  JSON.stringify(
    {
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        strict: true,
        // The shipped declarations are checked too, not only this app's use of them.
        skipLibCheck: false,
        noEmitOnError: true,
        resolveJsonModule: true,
        rootDir: 'src',
        outDir: 'out',
        // The repository's @types/node: the test downloads nothing.
        typeRoots: [typeRoots],
        types: ['node'],
      },
      include: ['src'],
    },
    null,
    2,
  );

/** Plain CommonJS: require() gives the same module instance as import (no dual-package copy). */
export const CJS_APP = `
const hastate = require('hastate');
const subpaths = ['hastate/testing', 'hastate/machines', 'hastate/reference'].map((p) => Object.keys(require(p)).length);
import('hastate').then((esm) => {
  console.log(JSON.stringify({ same: esm.HaNode === hastate.HaNode, haNode: typeof hastate.HaNode, subpaths, version: require('hastate/package.json').version }));
});
`;
