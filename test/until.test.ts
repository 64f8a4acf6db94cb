import { describe, expect, it } from 'vitest';
import { until } from './until.ts';

describe('until (the shared polling wait)', () => {
  it('returns the first answer, falsy values other than undefined/false included', async () => {
    let calls = 0;
    await expect(until('the third call', () => (++calls >= 3 ? 0 : undefined))).resolves.toBe(0);
    expect(calls).toBe(3);
  });

  it('at the deadline, fails naming what it awaited and adding the context', async () => {
    await expect(until('a miracle', () => false, { deadlineMs: 50, context: () => 'node-a: last log line' })).rejects.toThrow(
      /timed out after 50 ms waiting for a miracle\nnode-a: last log line/,
    );
  });

  it('a probe that throws fails the wait at once with its own error', async () => {
    let calls = 0;
    const probe = () => {
      calls++;
      throw new Error('broken probe');
    };
    await expect(until('anything', probe, 60_000)).rejects.toThrow('broken probe');
    expect(calls).toBe(1);
  });
});
