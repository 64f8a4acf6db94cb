/**
 * Shows or sets a node's durable epoch file, for operators (docs/durable-epoch.md).
 *   npm run -s epoch-file -- --node-id ID [--dir DIR]                  print the file and its epoch
 *   npm run -s epoch-file -- --node-id ID [--dir DIR] --set N [--force]
 * --set writes epoch N durably; it refuses to lower the epoch, and to replace a corrupt file,
 * unless --force. It takes the same lock as the node, so it refuses while the node runs.
 * DIR defaults to what the node would use without ha.state_dir. Exit 2 on any refusal.
 */
import { parseArgs } from 'node:util';
import { nodeFs } from '../src/runtime/epoch-fs.ts';
import { EpochStore, EpochStoreError, epochFileName } from '../src/runtime/epoch-store.ts';
import { resolveStateDir } from '../src/runtime/state-dir.ts';
import { join } from 'node:path';

const fail = (message: string): never => {
  process.stderr.write(`epoch-file: ${message}\n`);
  process.exit(2);
};

let values;
try {
  ({ values } = parseArgs({ options: { 'node-id': { type: 'string' }, dir: { type: 'string' }, set: { type: 'string' }, force: { type: 'boolean', default: false } } }));
} catch (error) {
  fail((error as Error).message);
}
const nodeId = values!['node-id'] ?? fail('--node-id is required');
const dir = resolveStateDir(values!.dir ?? '');
const target = values!.set === undefined ? null : Number(values!.set);
if (target !== null && (!Number.isSafeInteger(target) || target < 0)) fail(`--set must be a non-negative integer, got ${JSON.stringify(values!.set)}`);
const fs = nodeFs();

let store: EpochStore;
try {
  store = EpochStore.open({ fs, dir, nodeId });
} catch (error) {
  if (!(error instanceof EpochStoreError) || error.code !== 'HASTATE_EPOCH_STORE_CORRUPT' || target === null || !values!.force) fail((error as Error).message);
  // --force over a corrupt file: the operator decides the epoch; the lock is still honoured.
  const path = join(dir, epochFileName(nodeId));
  fs.unlink(path);
  store = EpochStore.open({ fs, dir, nodeId });
}
try {
  if (target === null) {
    process.stdout.write(`${store.path}: epoch ${store.epoch}\n`);
  } else if (target < store.epoch && !values!.force) {
    fail(`${store.path}: epoch ${store.epoch} is above ${target}; lowering it can make fenced downstreams refuse this node (use --force if they were reset too)`);
  } else if (target < store.epoch) {
    // Lowering: write the record directly, since the store only ever raises.
    fs.unlink(store.path);
    store.close();
    store = EpochStore.open({ fs, dir, nodeId });
    await store.record(target);
    process.stdout.write(`${store.path}: epoch ${target} (lowered with --force)\n`);
  } else {
    await store.record(target);
    process.stdout.write(`${store.path}: epoch ${store.epoch}\n`);
  }
} finally {
  store.close();
}
