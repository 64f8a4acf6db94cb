/**
 * STAND-IN for the external resource API the reference application talks to (the seed's
 * QywApiClient server). It is not part of hastate: it exists so that the demo and the tests
 * run anywhere. It serves a fixed inventory, records keep-alives, and stores forwarded alerts
 * behind an epoch fence: an alert from a primary whose epoch is lower than one already seen
 * is refused with 409, which is how a real downstream should treat a deposed primary.
 *
 * Test controls under /_stand-in/: GET stats, POST faults {delayMs, failRate, down}.
 */
import http from 'node:http';
import type { Board, Stack } from './repository.ts';
import { createEpochFence, EPOCH_HEADER } from '../services/epoch-fence.ts';
import { HastateError } from '../errors.ts';

export interface StandInStats {
  boardsServed: number;
  keepalives: Record<string, number>;
  lastKeepalive: { nodeId: string; epoch: number } | null;
  alerts: number;
  duplicateAlerts: number;
  refusedStale: number;
  highestEpoch: number;
  alertIds: string[];
}

export interface StandInFaults {
  /** Added to every inventory answer. */
  delayMs: number;
  /** Fraction (0..1) of inventory calls answered 500. */
  failRate: number;
  /** Answer every call with 503. */
  down: boolean;
}

const MAX_BODY_BYTES = 64 * 1024;
/** Alert ids remembered for de-duplication and stats. */
const MAX_ALERT_IDS = 100_000;

export function defaultInventory(): { boards: Board[]; stacks: Stack[] } {
  const boards: Board[] = Array.from({ length: 8 }, (_, i) => ({ id: `board-${i + 1}`, slot: i + 1, status: i === 6 ? 'warning' : 'ok' }));
  const stacks: Stack[] = [
    { id: 'stack-a', boards: ['board-1', 'board-2', 'board-3'], state: 'up' },
    { id: 'stack-b', boards: ['board-4', 'board-5'], state: 'up' },
    { id: 'stack-c', boards: ['board-6', 'board-7', 'board-8'], state: 'degraded' },
  ];
  return { boards, stacks };
}

export interface ApiStandIn {
  url: string;
  stats(): StandInStats;
  setFaults(f: Partial<StandInFaults>): void;
  close(): Promise<void>;
}

export function startApiStandIn(opts: { host?: string; port?: number } = {}): Promise<ApiStandIn> {
  const inventory = defaultInventory();
  const faults: StandInFaults = { delayMs: 0, failRate: 0, down: false };
  const fence = createEpochFence();
  const stats: StandInStats = { boardsServed: 0, keepalives: {}, lastKeepalive: null, alerts: 0, duplicateAlerts: 0, refusedStale: 0, highestEpoch: 0, alertIds: [] };
  const seen = new Set<string>();

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const readBody = (req: http.IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) reject(new HastateError('HASTATE_REFERENCE_API', 'body too large'));
        else chunks.push(c);
      });
      req.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
        } catch (error) {
          reject(error);
        }
      });
      req.on('error', reject);
    });

  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/_stand-in/stats') return json(res, 200, stats);
      if (path === '/_stand-in/faults' && req.method === 'POST') {
        Object.assign(faults, (await readBody(req)) as Partial<StandInFaults>);
        return json(res, 200, faults);
      }
      if (faults.down) return json(res, 503, { error: 'stand-in is down (fault injected)' });
      if (req.method === 'GET' && (path === '/boards' || path === '/stacks')) {
        if (faults.delayMs > 0) await new Promise((r) => setTimeout(r, faults.delayMs));
        if (Math.random() < faults.failRate) return json(res, 500, { error: 'injected failure' });
        if (path === '/boards') stats.boardsServed++;
        return json(res, 200, path === '/boards' ? inventory.boards : inventory.stacks);
      }
      if (req.method === 'POST' && path === '/keepalive') {
        const b = (await readBody(req)) as { nodeId?: unknown; epoch?: unknown };
        if (typeof b?.nodeId !== 'string' || typeof b.epoch !== 'number') return json(res, 400, { error: 'expected {nodeId, epoch}' });
        stats.keepalives[b.nodeId] = (stats.keepalives[b.nodeId] ?? 0) + 1;
        stats.lastKeepalive = { nodeId: b.nodeId, epoch: b.epoch };
        return json(res, 204, undefined);
      }
      if (req.method === 'POST' && path === '/alerts') {
        const b = (await readBody(req)) as { alert?: { id?: unknown }; nodeId?: unknown; epoch?: unknown };
        if (typeof b?.alert?.id !== 'string' || typeof b.epoch !== 'number') return json(res, 400, { error: 'expected {alert: {id}, nodeId, epoch}' });
        // The stamp in the headers when the client sends one (the library's fence), else the body's epoch.
        const verdict = req.headers[EPOCH_HEADER.toLowerCase()] !== undefined ? fence.admitRequest(req.headers) : fence.admit(b.epoch);
        if (!verdict.ok) {
          stats.refusedStale++;
          return json(res, 409, { error: verdict.message });
        }
        stats.highestEpoch = fence.highest;
        if (seen.has(b.alert.id)) {
          stats.duplicateAlerts++;
        } else if (seen.size < MAX_ALERT_IDS) {
          seen.add(b.alert.id);
          stats.alertIds.push(b.alert.id);
          stats.alerts++;
        }
        return json(res, 201, { stored: b.alert.id });
      }
      return json(res, 404, { error: `no route ${req.method} ${path}` });
    } catch (error) {
      return json(res, 400, { error: (error as Error).message });
    }
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      const a = server.address() as { address: string; port: number };
      resolve({
        url: `http://${a.address}:${a.port}`,
        stats: () => ({ ...stats, keepalives: { ...stats.keepalives }, alertIds: [...stats.alertIds] }),
        setFaults: (f) => Object.assign(faults, f),
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
