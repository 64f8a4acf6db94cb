import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';

const dir = join(import.meta.dirname, '../../examples');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('example node files', () => {
  it('include the multicast pair and one per lease backend', () => {
    expect(files).toEqual(expect.arrayContaining(['node-a.yaml', 'node-b.yaml', 'node-redis.yaml', 'node-etcd.yaml']));
  });
  for (const file of files) {
    it(`${file} is a valid configuration`, () => {
      const c = loadConfig({ file: join(dir, file), env: {} });
      const expected = file.includes('redis') ? 'redis' : file.includes('etcd') ? 'etcd' : 'multicast';
      expect(c.ha.backend).toBe(expected);
    });
  }
});
