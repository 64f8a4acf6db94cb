import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { parseConfigText } from '../../src/config/index.ts';
import { HaNode, type RoleChange } from '../../src/runtime/node.ts';
import { defineService, type RoleTransition } from '../../src/services/types.ts';

describe('ha.backend single', () => {
  it('is primary as soon as its epoch is durable, opens no socket, and services get the primary transition', async () => {
    const config = parseConfigText('ha:\n  backend: single\n  interface: 127.0.0.1\n  node_id: solo\nstatus:\n  enabled: false\n', 'single.yaml', { env: {} });
    const seen: RoleTransition[] = [];
    const node = new HaNode({ config, logger: pino({ level: 'silent' }), services: [defineService({ name: 'rec', onRoleChange: (t) => void seen.push(t) })] });
    const changes: RoleChange[] = [];
    node.onRoleChange((c) => changes.push(c));
    node.start();
    try {
      // The role waits for the epoch file (fsync), so not synchronously any more.
      await vi.waitFor(() => expect(changes.map((c) => c.to)).toEqual(['primary']), { timeout: 5_000 });
      const s = node.status();
      expect(s).toMatchObject({ role: 'primary', backend: 'single', epoch: 1, primaryId: 'solo' });
      expect(s.transport.up).toBe(true);
      expect(s.packets).toEqual({ sent: 0, received: 0, sendErrors: 0 });
      await new Promise((r) => setImmediate(r));
      expect(seen.at(-1)).toMatchObject({ to: 'primary', epoch: 1 });
    } finally {
      await node.stop(1000);
    }
  });
});
