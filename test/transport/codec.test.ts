import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  DROP_REASONS,
  MAGIC,
  MAX_EPOCH,
  MAX_NODE_ID_BYTES,
  MESSAGE_SIZE,
  decodeMessage,
  encodeMessage,
  nodeIdProblem,
  type DecodeResult,
  type HaMessage,
} from '../../src/transport/codec.ts';

const RUNS = { numRuns: 1000 };
const ID_OFFSET = 20;
const MAX_TIMESTAMP_MS = 2 ** 44 - 1;

const base: HaMessage = {
  type: 'heartbeat',
  role: 'primary',
  priority: 100,
  sequence: 7,
  timestampMs: 1_700_000_000_123,
  epoch: 3,
  nodeId: '192.168.1.10',
};

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function expectDrop(result: DecodeResult, reason: string): void {
  expect(result.ok).toBe(false);
  if (!result.ok) {
    expect(result.reason).toBe(reason);
    expect(result.detail.length).toBeGreaterThan(0);
  }
}

/** A valid packet with one byte overwritten. */
function withByte(m: HaMessage, offset: number, value: number): Buffer {
  const b = encodeMessage(m);
  b[offset] = value;
  return b;
}

/** What a decoded packet re-encodes to: the id field's bytes after its first NUL become zero. */
function canonical(bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes);
  const nul = b.indexOf(0, ID_OFFSET);
  if (nul >= 0) b.fill(0, nul);
  return b;
}

const ipv4Arb = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const hostnameArb = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,30}$/);
const unicodeArb = fc
  .oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }))
  .filter((s) => nodeIdProblem(s) === null);
const nodeIdArb = fc.oneof(ipv4Arb, hostnameArb, unicodeArb);

const messageArb: fc.Arbitrary<HaMessage> = fc.record({
  type: fc.constantFrom('announce', 'heartbeat', 'declaration'),
  role: fc.constantFrom('unknown', 'primary', 'standby'),
  priority: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  sequence: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  timestampMs: fc.oneof(fc.integer({ min: 0, max: MAX_TIMESTAMP_MS }), fc.constantFrom(0, MAX_TIMESTAMP_MS, 2 ** 32 - 1, 2 ** 32)),
  epoch: fc.oneof(fc.integer({ min: 0, max: MAX_EPOCH }), fc.constantFrom(0, MAX_EPOCH, 2 ** 19)),
  nodeId: nodeIdArb,
});

describe('codec: constants', () => {
  it('match the C struct', () => {
    expect(MESSAGE_SIZE).toBe(52);
    expect(MAGIC).toBe(0xbea7);
    expect(MAX_NODE_ID_BYTES).toBe(31);
    expect(MAX_EPOCH).toBe(2 ** 20 - 1);
    expect([...DROP_REASONS].sort()).toEqual(['length', 'magic', 'node-id', 'role', 'self', 'type']);
  });
});

describe('codec: golden bytes', () => {
  const golden = hex(`
    bea7 02 01
    00000064
    00000007
    0000318b cfe5687b
    3139322e3136382e312e3130 ${'00'.repeat(20)}
  `);

  it('encodes a known heartbeat byte for byte', () => {
    expect(golden.length).toBe(52);
    expect(encodeMessage(base).toString('hex')).toBe(golden.toString('hex'));
  });

  it('decodes the golden bytes back', () => {
    expect(decodeMessage(golden)).toEqual({ ok: true, message: base });
  });

  it('puts the epoch in the high 20 bits of the timestamp', () => {
    const b = encodeMessage(base);
    expect(b.readBigUInt64BE(12)).toBe((3n << 44n) | 1_700_000_000_123n);
  });

  it('decodes a C++-style packet (plain ms timestamp, garbage after the NUL) as epoch 0', () => {
    const b = Buffer.alloc(52, 0xcc); // uninitialised C stack memory
    b.writeUInt16BE(0xbea7, 0);
    b.writeUInt8(3, 2); // declaration
    b.writeUInt8(2, 3); // standby
    b.writeInt32BE(-5, 4);
    b.writeUInt32BE(0xffffffff, 8);
    b.writeBigUInt64BE(1_700_000_000_123n, 12);
    b.write('node-b\0', 20, 'latin1');
    expect(decodeMessage(b)).toEqual({
      ok: true,
      message: { type: 'declaration', role: 'standby', priority: -5, sequence: 0xffffffff, timestampMs: 1_700_000_000_123, epoch: 0, nodeId: 'node-b' },
    });
  });

  it('decodes from a Uint8Array view into a larger buffer', () => {
    const big = new Uint8Array(100);
    big.set(encodeMessage(base), 13);
    expect(decodeMessage(big.subarray(13, 13 + 52))).toEqual({ ok: true, message: base });
  });

  it('keeps a leading U+FEFF in the node id (TextDecoder would strip it as a BOM by default)', () => {
    const m = { ...base, nodeId: '\uFEFFnode' };
    expect(decodeMessage(encodeMessage(m))).toEqual({ ok: true, message: m });
  });

  it('accepts a 31-byte multi-byte id exactly at the limit', () => {
    const m = { ...base, nodeId: 'a' + 'é'.repeat(15) }; // 1 + 30 bytes
    expect(decodeMessage(encodeMessage(m))).toEqual({ ok: true, message: m });
  });
});

describe('codec: properties', () => {
  it('decode(encode(m)) equals m', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const bytes = encodeMessage(m);
        expect(bytes.length).toBe(MESSAGE_SIZE);
        expect(decodeMessage(bytes)).toEqual({ ok: true, message: m });
      }),
      RUNS,
    );
  });

  it('decode never throws on arbitrary bytes and reports a known reason', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.uint8Array({ minLength: 52, maxLength: 52 })), (data) => {
        const result = decodeMessage(data);
        if (result.ok) expect(encodeMessage(result.message)).toEqual(canonical(data));
        else expect(DROP_REASONS).toContain(result.reason);
      }),
      RUNS,
    );
  });

  it('decode never throws on a valid packet with one byte mutated, and what it accepts re-encodes faithfully', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(MESSAGE_SIZE - 1), fc.nat(255), (m, offset, value) => {
        const mutated = withByte(m, offset, value);
        const result = decodeMessage(mutated);
        if (!result.ok) {
          expect(DROP_REASONS).toContain(result.reason);
          return;
        }
        const reencoded = encodeMessage(result.message);
        // Bytes after the id's first NUL are not preserved; everything else is.
        expect(reencoded).toEqual(canonical(mutated));
        // In the header, or a non-NUL byte inside the id, the mutation survives exactly.
        const idBytes = Buffer.byteLength(m.nodeId, 'utf8');
        if (offset < ID_OFFSET || (offset < ID_OFFSET + idBytes && value !== 0)) expect(reencoded).toEqual(mutated);
      }),
      RUNS,
    );
  });

  it('nodeIdProblem agrees with the encoder', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (id) => {
        const encode = () => encodeMessage({ ...base, nodeId: id });
        if (nodeIdProblem(id) === null) expect(decodeMessage(encode())).toEqual({ ok: true, message: { ...base, nodeId: id } });
        else expect(encode).toThrow(RangeError);
      }),
      RUNS,
    );
  });
});

describe('codec: drop reasons', () => {
  it("'length': anything but 52 bytes", () => {
    for (const n of [0, 1, 51, 53, 104]) {
      const result = decodeMessage(new Uint8Array(n));
      expectDrop(result, 'length');
    }
    const result = decodeMessage(encodeMessage(base).subarray(0, 51));
    expect(result).toEqual({ ok: false, reason: 'length', detail: 'length 51, expected 52' });
  });

  it("'magic': wrong magic", () => {
    expectDrop(decodeMessage(withByte(base, 0, 0xa7)), 'magic');
    expectDrop(decodeMessage(withByte(base, 1, 0xbe)), 'magic');
  });

  it("'type': msgType outside 1..3", () => {
    for (const t of [0, 4, 255]) expectDrop(decodeMessage(withByte(base, 2, t)), 'type');
  });

  it("'role': role outside 0..2", () => {
    for (const r of [3, 255]) expectDrop(decodeMessage(withByte(base, 3, r)), 'role');
  });

  it("'node-id': missing NUL, empty, invalid UTF-8, control characters", () => {
    const noNul = encodeMessage(base);
    noNul.fill(0x61, ID_OFFSET);
    expectDrop(decodeMessage(noNul), 'node-id');

    expectDrop(decodeMessage(withByte(base, ID_OFFSET, 0)), 'node-id');
    expectDrop(decodeMessage(withByte(base, ID_OFFSET, 0xff)), 'node-id');
    expectDrop(decodeMessage(withByte(base, ID_OFFSET, 0xc3)), 'node-id'); // truncated 2-byte sequence
    expectDrop(decodeMessage(withByte(base, ID_OFFSET, 0x07)), 'node-id');
    expectDrop(decodeMessage(withByte(base, ID_OFFSET, 0x7f)), 'node-id');

    const c1 = encodeMessage(base);
    c1.fill(0, ID_OFFSET).write('a\u0085', ID_OFFSET, 'utf8'); // C1 control, valid UTF-8
    expectDrop(decodeMessage(c1), 'node-id');

    const surrogate = encodeMessage(base);
    surrogate.fill(0, ID_OFFSET).set([0xed, 0xa0, 0x80], ID_OFFSET); // CESU-style U+D800
    expectDrop(decodeMessage(surrogate), 'node-id');
  });

  it('an id decoded before (remembered by its bytes) admits no longer, shorter or altered id', () => {
    const known = encodeMessage({ ...base, nodeId: 'node-a' });
    expect(decodeMessage(known)).toMatchObject({ ok: true, message: { nodeId: 'node-a' } });
    expect(decodeMessage(known)).toMatchObject({ ok: true, message: { nodeId: 'node-a' } });
    const longer = Buffer.from(known);
    longer[ID_OFFSET + 6] = 0x07; // a control character after the known id, before the NUL
    expectDrop(decodeMessage(longer), 'node-id');
    const shorter = Buffer.from(known);
    shorter[ID_OFFSET + 5] = 0;
    expect(decodeMessage(shorter)).toMatchObject({ ok: true, message: { nodeId: 'node-' } });
    const altered = Buffer.from(known);
    altered[ID_OFFSET + 5] = 0xff;
    expectDrop(decodeMessage(altered), 'node-id');
    // More distinct ids than are remembered, then the first again: still decoded right.
    for (let i = 0; i < 20; i++) expect(decodeMessage(encodeMessage({ ...base, nodeId: `n${i}` }))).toMatchObject({ ok: true, message: { nodeId: `n${i}` } });
    expect(decodeMessage(known)).toMatchObject({ ok: true, message: { nodeId: 'node-a' } });
  });

  it("'self': our own node id", () => {
    const bytes = encodeMessage(base);
    expectDrop(decodeMessage(bytes, base.nodeId), 'self');
    expect(decodeMessage(bytes, 'someone-else')).toEqual({ ok: true, message: base });
  });
});

describe('codec: encoder rejects out-of-range fields', () => {
  const cases: Array<[string, Partial<HaMessage>]> = [
    ['priority', { priority: 2 ** 31 }],
    ['priority', { priority: -(2 ** 31) - 1 }],
    ['priority', { priority: 1.5 }],
    ['priority', { priority: Number.NaN }],
    ['sequence', { sequence: 2 ** 32 }],
    ['sequence', { sequence: -1 }],
    ['timestampMs', { timestampMs: 2 ** 44 }],
    ['timestampMs', { timestampMs: -1 }],
    ['epoch', { epoch: MAX_EPOCH + 1 }],
    ['epoch', { epoch: -1 }],
    ['nodeId', { nodeId: 'a'.repeat(32) }],
    ['nodeId', { nodeId: 'é'.repeat(16) }], // 32 UTF-8 bytes in 16 characters
    ['nodeId', { nodeId: '' }],
    ['nodeId', { nodeId: 'a\0b' }],
    ['nodeId', { nodeId: 'tab\there' }],
    ['nodeId', { nodeId: 'x\uD800' }],
    ['type', { type: 'bogus' as HaMessage['type'] }],
    ['role', { role: 'leader' as HaMessage['role'] }],
  ];
  for (const [field, patch] of cases) {
    it(`${field} = ${JSON.stringify(Object.values(patch)[0])}`, () => {
      const encode = () => encodeMessage({ ...base, ...patch });
      expect(encode).toThrow(RangeError);
      expect(encode).toThrow(new RegExp(`^${field}`));
    });
  }

  it('accepts the extremes of every range', () => {
    const m: HaMessage = { ...base, priority: -(2 ** 31), sequence: 2 ** 32 - 1, timestampMs: MAX_TIMESTAMP_MS, epoch: MAX_EPOCH, nodeId: 'x'.repeat(31) };
    expect(decodeMessage(encodeMessage(m))).toEqual({ ok: true, message: m });
    const n: HaMessage = { ...m, priority: 2 ** 31 - 1, sequence: 0, timestampMs: 0, epoch: 0, nodeId: 'y' };
    expect(decodeMessage(encodeMessage(n))).toEqual({ ok: true, message: n });
  });
});

describe('nodeIdProblem', () => {
  it('accepts typical ids and rejects bad ones with a message', () => {
    for (const ok of ['192.168.1.10', 'node-a', 'ünïcødé', '\u{1F600}']) expect(nodeIdProblem(ok)).toBeNull();
    for (const bad of ['', 'a'.repeat(32), 'a\0', 'line\nbreak', '\u0085', 'x\uDC00']) expect(nodeIdProblem(bad)).toMatch(/node id/);
  });
});
