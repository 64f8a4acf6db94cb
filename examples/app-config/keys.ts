/**
 * The inventory application's own configuration keys, in hastate's schema language: each has a
 * type, a default, an environment variable (INVENTORY_ + the path) and a doc, and is validated,
 * defaulted, overridden and reported exactly like hastate's keys.
 */
import { defineConfigKeys, keyTypes, loadConfig } from '../../src/index.ts';

export const inventoryKeys = defineConfigKeys({
  envPrefix: 'INVENTORY_',
  keys: {
    'inventory.api_url': { type: keyTypes.httpUrl(), default: 'http://127.0.0.1:9400', doc: 'Base URL of the resource API.' },
    'inventory.refresh_interval_seconds': { type: keyTypes.seconds(), default: 10, doc: 'How often the primary refreshes the inventory.' },
    'inventory.batch_size': { type: keyTypes.integer(1, 1000), default: 100, doc: 'Items written per batch.' },
    'inventory.store.path': { type: keyTypes.filePath(), default: '', doc: 'Directory of the local store; "" = memory only.' },
    'inventory.store.fsync': { type: keyTypes.boolean(), default: false, doc: 'fsync every batch.' },
  },
});

/** Top-level keys of the file that belong to the application and that hastate does not read. */
export const APP_SECTIONS = ['ui'] as const;

/** hastate's configuration and the application's, from one file; throws ConfigError listing every problem. */
export function loadInventoryConfig(file: string, env: Record<string, string | undefined> = process.env) {
  return loadConfig({ file, appKeys: inventoryKeys, appSections: APP_SECTIONS, env });
}
