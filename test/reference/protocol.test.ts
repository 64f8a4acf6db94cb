import { describe, expect, it } from 'vitest';
import { parseMonitorResponse } from '../../src/reference/protocol.ts';

const good = { type: 'monitor-response', requestId: 7, nodeId: 'n1', epoch: 3, boards: 4, healthyBoards: 3, stacks: 2, dataAgeMs: 120, stale: false };
const bytes = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('monitor response parsing', () => {
  it('accepts a well-formed response and returns exactly its fields', () => {
    expect(parseMonitorResponse(bytes({ ...good, extra: 'ignored' }))).toEqual({ ok: true, value: good });
    expect(parseMonitorResponse(bytes({ ...good, dataAgeMs: null }))).toMatchObject({ ok: true, value: { dataAgeMs: null } });
  });

  it.each([
    ['a negative count', { boards: -1 }, /boards/],
    ['a fractional count', { stacks: 1.5 }, /stacks/],
    ['a string epoch', { epoch: '3' }, /epoch/],
    ['a negative data age', { dataAgeMs: -5 }, /dataAgeMs/],
    ['a missing stale flag', { stale: undefined }, /stale/],
  ])('refuses %s, naming the field', (_name, patch, field) => {
    const r = parseMonitorResponse(bytes({ ...good, ...patch }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe('bad-field');
      expect(r.detail).toMatch(field);
    }
  });
});
