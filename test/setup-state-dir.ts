/**
 * Every test gets its own state directory for nodes that do not name one (in-process HaNodes,
 * CLI runs): tests never write the durable epoch into the user's home, never share an epoch
 * file across parallel files, and a node id reused by the next test starts from epoch 0 as
 * before. spawnNode gives each node process its own directory on top.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach } from 'vitest';

const fresh = () => {
  process.env.STATE_DIRECTORY = mkdtempSync(join(tmpdir(), 'hastate-test-state-'));
};
fresh();
beforeEach(fresh);
