import { readdirSync, readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ipv4ToNumber, LEAVING_PRIORITY, MAX_NODE_ID_BYTES, nodeIdProblem, parseIPv4, utf8ByteLength,
} from '../../machines/identity.ts';
import { restartDelayMs } from '../../machines/backoff.ts';
import { parseConfigText } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors.ts';
import { decodeMessage, encodeMessage, nodeIdProblem as wireProblem } from '../../src/transport/codec.ts';

const RUNS = { numRuns: 500 };
// Strings rich in the characters the rules are about: controls, surrogates, multi-byte.
const idLike = fc.string({
  unit: fc.oneof(fc.constantFrom('a', '.', '1', '\0', '\n', '\u007f', '\u0085', '\ud800', '\udc00', 'é', '€', '\u{1F600}'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
  maxLength: 40,
});

function configAccepts(id: string): boolean {
  try {
    parseConfigText(JSON.stringify({ ha: { interface: '127.0.0.1', node_id: id } }), 'n.json', { env: {} });
    return true;
  } catch (error) {
    if (error instanceof ConfigError && error.problems.every((p) => p.key === 'ha.node_id')) return false;
    throw error;
  }
}

describe('identity: node ids', () => {
  it('UTF-8 length matches Buffer.byteLength, lone surrogates included (they encode as U+FFFD)', () => {
    fc.assert(fc.property(idLike, (s) => {
      expect(utf8ByteLength(s)).toBe(Buffer.byteLength(s, 'utf8'));
    }), RUNS);
  });

  it('config, encoder and decoder accept exactly the ids the rule accepts', () => {
    fc.assert(
      fc.property(idLike, (id) => {
        const valid = nodeIdProblem(id) === null;
        expect(configAccepts(id)).toBe(valid);
        expect(wireProblem(id) === null).toBe(valid);
        if (valid) {
          const m = { type: 'heartbeat', role: 'primary', priority: 1, sequence: 1, timestampMs: 1, epoch: 0, nodeId: id } as const;
          expect(decodeMessage(encodeMessage(m))).toEqual({ ok: true, message: m });
        }
      }),
      RUNS,
    );
  });

  it('names the first problem', () => {
    expect(nodeIdProblem('')).toEqual({ kind: 'empty' });
    expect(nodeIdProblem('ab\u0085')).toEqual({ kind: 'control', codePoint: 0x85, index: 2 });
    expect(nodeIdProblem('x\udc00')).toEqual({ kind: 'surrogate', codePoint: 0xdc00, index: 1 });
    expect(nodeIdProblem('€'.repeat(11))).toEqual({ kind: 'too-long', bytes: 33 });
    expect(nodeIdProblem('a'.repeat(MAX_NODE_ID_BYTES))).toBeNull();
    expect(nodeIdProblem('\u{1F600}')).toBeNull();
  });
});

describe('identity: IPv4 and priority', () => {
  it('parseIPv4 accepts exactly strict dotted quads (no leading zeros)', () => {
    const quad = fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300)).map((o) => o.join('.'));
    const text = fc.oneof(quad, fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9', '.', ' ', 'x'), maxLength: 16 }));
    fc.assert(
      fc.property(text, (s) => {
        const strict = isIPv4(s) && s.split('.').every((o) => o === '0' || !o.startsWith('0'));
        expect(parseIPv4(s) !== undefined).toBe(strict);
      }),
      RUNS,
    );
  });

  it('ipv4ToNumber is the unsigned 32-bit value, so 10 sorts after 9 and 255.x stays positive', () => {
    expect(ipv4ToNumber('0.0.0.0')).toBe(0);
    expect(ipv4ToNumber('127.0.0.9')! < ipv4ToNumber('127.0.0.10')!).toBe(true);
    expect(ipv4ToNumber('255.255.255.255')).toBe(2 ** 32 - 1);
    expect(ipv4ToNumber('192.168.1.010')).toBeNull();
    expect(ipv4ToNumber('node-a')).toBeNull();
  });

  it('the lowest int32 is reserved for the leaving announcement: the wire carries it, config refuses it', () => {
    expect(LEAVING_PRIORITY).toBe(-(2 ** 31));
    const m = { type: 'declaration', role: 'standby', priority: LEAVING_PRIORITY, sequence: 1, timestampMs: 1, epoch: 0, nodeId: 'a' } as const;
    expect(decodeMessage(encodeMessage(m))).toEqual({ ok: true, message: m });
    const config = (priority: number) => parseConfigText(JSON.stringify({ ha: { interface: '127.0.0.1', priority } }), 'n.json', { env: {} });
    expect(() => config(LEAVING_PRIORITY)).toThrow(ConfigError);
    expect(config(LEAVING_PRIORITY + 1).ha.priority).toBe(LEAVING_PRIORITY + 1);
    expect(config(2 ** 31 - 1).ha.priority).toBe(2 ** 31 - 1);
    expect(() => config(2 ** 31)).toThrow(ConfigError);
  });
});

describe('backoff', () => {
  it('doubles from the base and stops at the cap, for any number of failures', () => {
    expect([1, 2, 3, 4].map((f) => restartDelayMs(f, 100, 1000))).toEqual([100, 200, 400, 800]);
    expect(restartDelayMs(0, 100, 1000)).toBe(100);
    expect(restartDelayMs(5, 100, 1000)).toBe(1000);
    expect(restartDelayMs(1e9, 100, 1000)).toBe(1000);
  });
});

describe('one definition of each identity rule', () => {
  const root = join(import.meta.dirname, '../..');
  const sources = ['src', 'machines'].flatMap((d) =>
    readdirSync(join(root, d), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(root, d, f)),
  );
  const definitions: [string, RegExp][] = [
    ['MAX_NODE_ID_BYTES', /\bconst MAX_NODE_ID_BYTES\s*=/],
    ['WireRole', /\btype WireRole\s*=/],
    ['IPv4 parsing', /\bfunction (parseIPv4|ipv4ToNumber)\b/],
    ['LEAVING_PRIORITY', /\bconst LEAVING_PRIORITY\s*=/],
    ['int32 bounds', /\bconst INT32_M(IN|AX)\s*=|2 \*\* 31|2147483648/],
    ['backoff', /\bfunction restartDelayMs\b/],
  ];
  for (const [what, pattern] of definitions) {
    it(`${what} is defined only in machines/identity.ts or machines/backoff.ts`, () => {
      const where = sources.filter((f) => pattern.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
      expect(where).toEqual([what === 'backoff' ? 'machines/backoff.ts' : 'machines/identity.ts']);
    });
  }
});
