import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES, parseConfigDocument, readConfigDocument } from '../../src/config/index.ts';
import { problemsOf } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'hastate-document-'));
function write(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('an application reading its own parts of the file (readConfigDocument)', () => {
  it('gives the data of a JSONC file, comments gone and strings intact; keys are not checked', () => {
    const file = write('app.jsonc', '// app\n{\n  "ui": { "title": "a // b /* c */" }, /* x */\n  "ha": { "priorty": 1 },\n}\n');
    expect(readConfigDocument(file)).toEqual({ ui: { title: 'a // b /* c */' }, ha: { priorty: 1 } });
    expect(parseConfigDocument('ui:\n  url: http://x//y\n', 'app.yaml')).toEqual({ ui: { url: 'http://x//y' } });
  });

  it('refuses what loadConfig refuses, with the same positions', () => {
    expect(problemsOf(() => readConfigDocument(write('open.json', '{\n  "ui": 1 /* never\n}\n')))).toEqual([
      `${dir}/open.json:2:11: (json): comment /* never closes (no */ before the end of the file)`,
    ]);
    expect(problemsOf(() => readConfigDocument(write('big.json', ' '.repeat(MAX_FILE_BYTES + 1))))).toEqual([
      `${dir}/big.json: (file): file too large (${MAX_FILE_BYTES + 1} bytes; the limit is ${MAX_FILE_BYTES})`,
    ]);
    expect(problemsOf(() => readConfigDocument(write('bad.yaml', Buffer.from([0xff, 0xfe]))))).toEqual([`${dir}/bad.yaml: (file): file is not valid UTF-8`]);
    expect(problemsOf(() => readConfigDocument(join(dir, 'missing.json')))).toEqual([expect.stringMatching(/missing\.json: \(file\): cannot read file: ENOENT/)]);
    expect(problemsOf(() => parseConfigDocument('{"a": [1,, 2]}', 'x.json'))).toEqual([expect.stringMatching(/^x\.json:1:\d+: \(json\): JSON syntax error: /)]);
  });

  it('an alias bomb is refused, not expanded', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    expect(problemsOf(() => parseConfigDocument(bomb, 'bomb.yaml'))).toEqual([expect.stringMatching(/^bomb\.yaml: \(yaml\): cannot convert the document: .*alias/i)]);
  });
});
