/**
 * Loads examples/app-config/app.jsonc (or the file given) the way the inventory application
 * would, and prints what it got. Problems are printed like `hastate validate` prints them, with
 * exit code 2:
 *
 *   npx tsx examples/app-config/main.ts examples/app-config/app.jsonc
 */
import { join } from 'node:path';
import { ConfigError, readConfigDocument, renderEffectiveConfig } from '../../src/index.ts';
import { inventoryKeys, loadInventoryConfig } from './keys.ts';

const file = process.argv[2] ?? join(import.meta.dirname, 'app.jsonc');
try {
  const config = loadInventoryConfig(file);
  // Typed: config.inventory is { apiUrl: string; refreshIntervalMs: number; batchSize: number; store: {...} }.
  const { inventory, ha } = config;
  process.stdout.write(`node ${ha.nodeId} (priority ${ha.priority}): refresh ${inventory.apiUrl} every ${inventory.refreshIntervalMs} ms, batches of ${inventory.batchSize}\n`);
  // The "ui" block is the application's alone (appSections): it reads it from the same file.
  const ui = (readConfigDocument(file) as { ui?: { title?: unknown } }).ui;
  process.stdout.write(`ui title: ${typeof ui?.title === 'string' ? ui.title : '(none)'}\n`);
  process.stdout.write(renderEffectiveConfig(config, inventoryKeys));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${file}: invalid configuration:\n${error.message}\n`);
  process.exitCode = 2;
}
