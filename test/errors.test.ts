import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiMisuse, internalBug } from '../src/assert.ts';
import { HastateError } from '../src/errors.ts';
import { encodeMessage } from '../src/transport/codec.ts';
import { defineService } from '../src/services/types.ts';
import { statusService } from '../src/services/status-server.ts';
import { serviceHarness } from '../src/testing/index.ts';

const root = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const srcFiles = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts'))
  .map((f) => `src/${f}`);

// The codes as declared: the members of the HastateErrorCode union in src/errors.ts.
const errorsSource = read('src/errors.ts');
const unionMatch = /export type HastateErrorCode =([\s\S]*?);\n/.exec(errorsSource);
const declared = [...(unionMatch?.[1] ?? '').matchAll(/\|\s*'([A-Z_]+)'/g)].map((m) => m[1]!);
const withoutUnion = (path: string) => (path === 'src/errors.ts' ? errorsSource.replace(unionMatch![0], '') : read(path));

describe('error codes', () => {
  it('are declared (sanity check of the parse)', () => {
    expect(declared).toContain('HASTATE_CONFIG_INVALID');
    expect(declared.length).toBeGreaterThanOrEqual(10);
  });

  it('each is used somewhere in src/ besides its declaration', () => {
    const unused = declared.filter((code) => !srcFiles.some((f) => withoutUnion(f).includes(`'${code}'`)));
    expect(unused).toEqual([]);
  });

  it('docs/errors.md documents exactly the declared codes, each in a table row with a meaning', () => {
    const rows = [...read('docs/errors.md').matchAll(/^\| `(HASTATE_[A-Z_]+)` \| ([^|]+) \|/gm)];
    expect(rows.map((r) => r[1]).sort()).toEqual([...declared].sort());
    for (const r of rows) expect(r[2]!.trim().length, r[1]).toBeGreaterThan(10);
  });

  it('src/ creates no plain Error, RangeError or TypeError outside src/assert.ts', () => {
    const bare = /\bnew (Range|Type)?Error\(/;
    const offenders = srcFiles.filter((f) => f !== 'src/assert.ts' && bare.test(read(f)));
    expect(offenders).toEqual([]);
  });

  it('every error class in src/ is a HastateError, except the simulator imitation of fs errors', () => {
    const classes = srcFiles.flatMap((f) => [...read(f).matchAll(/class (\w+) extends (\w+)/g)].map((m) => ({ file: f, name: m[1]!, base: m[2]! })));
    const errorClasses = classes.filter((c) => /Error$|Fault$/.test(c.name));
    const notHastate = errorClasses.filter((c) => c.base === 'Error' && c.name !== 'HastateError').map((c) => `${c.file}: ${c.name}`);
    expect(notHastate).toEqual(['src/testing/memory-fs.ts: InjectedFault']);
  });
});

describe('programmer errors keep their standard class and carry a code', () => {
  it('apiMisuse and internalBug', () => {
    const range = apiMisuse('x out of range');
    expect(range).toBeInstanceOf(RangeError);
    expect(range).toMatchObject({ code: 'HASTATE_API_MISUSE', message: 'x out of range' });
    expect(apiMisuse('wrong kind', TypeError)).toBeInstanceOf(TypeError);
    expect(internalBug('cannot happen')).toMatchObject({ code: 'HASTATE_INTERNAL', message: 'cannot happen' });
  });

  it('at real call sites: the encoder and defineService', () => {
    const bad = () => encodeMessage({ type: 'heartbeat', role: 'primary', priority: 2 ** 31, sequence: 0, timestampMs: 0, epoch: 0, nodeId: 'a' });
    expect(bad).toThrow(RangeError);
    expect(bad).toThrow(expect.objectContaining({ code: 'HASTATE_API_MISUSE', message: expect.stringMatching(/^priority/) }));
    expect(() => defineService({ name: 'bad name!' } as never)).toThrow(expect.objectContaining({ code: 'HASTATE_API_MISUSE' }));
  });
});

describe('HASTATE_STATUS_LISTEN on a real socket', () => {
  let taken: Server | null = null;
  afterEach(() => new Promise<void>((done) => (taken ? taken.close(() => done()) : done())));

  it('the status service cannot listen on a port another server holds', async () => {
    taken = createServer();
    await new Promise<void>((ok) => taken!.listen(0, '127.0.0.1', ok));
    const port = (taken.address() as { port: number }).port;
    const service = statusService({ host: '127.0.0.1', port, getStatus: () => ({}) as never, liveView: false });
    let error: unknown;
    try {
      await service.start!({} as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HastateError);
    expect(error).toMatchObject({ code: 'HASTATE_STATUS_LISTEN', message: expect.stringContaining(`127.0.0.1:${port}`) });
    expect((error as Error).cause).toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('HASTATE_NOT_PRIMARY through the real runner', () => {
  it('the primary signal is aborted with a coded reason, before primary and after leaving it', async () => {
    const signals: AbortSignal[] = [];
    const h = serviceHarness(defineService({ name: 'probe', onRoleChange: (_t, ctx) => void signals.push(ctx.primarySignal()) }));
    try {
      h.role('standby');
      h.role('primary', { epoch: 1 });
      await expect.poll(() => signals.length, { timeout: 5_000 }).toBe(2);
      expect(signals[1]!.aborted).toBe(false);
      h.role('standby', { epoch: 2, primaryId: 'other' });
      await expect.poll(() => signals[1]!.aborted, { timeout: 5_000 }).toBe(true);
      for (const s of [signals[0]!, signals[1]!]) {
        expect(s.reason).toBeInstanceOf(HastateError);
        expect(s.reason).toMatchObject({ code: 'HASTATE_NOT_PRIMARY' });
      }
      expect(signals[1]!.reason.message).toBe('left primary: now standby');
    } finally {
      await h.stop();
    }
  });
});
