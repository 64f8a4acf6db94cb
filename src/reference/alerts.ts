/**
 * Alert receiver (seed 2.2.3): an HTTP server on every node accepting board alerts. Only the
 * primary processes them: it hands each alert to the API fenced with its epoch and answers
 * 200 once the API has it, so an alert a client saw accepted is never lost in a switch.
 * Everything else is answered so that a client knows what to do next:
 *
 * | situation                    | status | body `code`      | client should           |
 * |------------------------------|--------|------------------|-------------------------|
 * | processed                    | 200    | `PROCESSED`      | done                    |
 * | this node is standby         | 503    | `NOT_PRIMARY`    | go to `primary`         |
 * | election or switch under way | 503    | `SWITCHING_OVER` | retry after Retry-After |
 * | API unreachable              | 502    | `UPSTREAM_FAILED`| retry                   |
 * | malformed body / field       | 400    | `BAD_JSON` / `BAD_ALERT` | fix the request |
 * | body over the limit          | 413    | `TOO_LARGE`      | fix the request         |
 *
 * The 503s come from the library's primary gate (src/services/primary-gate.ts): `Retry-After`
 * (whole seconds), `retryAfterMs`, and an `X-HA-Role` header. Seed 004's clients tell a switch
 * in progress from a standby the same way (error 308000000). Alerts go to the API stamped with
 * the epoch headers (`Hastate-Epoch`), which the API's fence checks.
 *
 * The primary also sends the API keep-alive, every `keepaliveIntervalMs`, only while primary.
 */
import http from 'node:http';
import { defineService, type ServiceContext, type ServiceDefinition } from '../services/types.ts';
import { primaryGate, type GateRefusal } from '../services/primary-gate.ts';
import { ApiError, type ApiClient } from './api-client.ts';
import { checkAlert } from './protocol.ts';
import type { Repository } from './repository.ts';

export interface AlertReceiverOptions {
  repo: Repository;
  api: ApiClient;
  host: string;
  port: number;
  maxBodyBytes: number;
  retryAfterMs: number;
  keepaliveIntervalMs: number;
  onListening?: (address: { host: string; port: number }) => void;
}

/** Bound on receiving one request, headers and body. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Bound on concurrent connections: alerts are small and frequent, not a bulk upload path. */
const MAX_CONNECTIONS = 256;

export function alertReceiver(opts: AlertReceiverOptions): ServiceDefinition & { address(): { host: string; port: number } | null } {
  let server: http.Server | null = null;
  let keepaliveTimer: NodeJS.Timeout | null = null;
  const counters = { requests: 0, processed: 0, refusedStandby: 0, refusedSwitching: 0, invalid: 0, tooLarge: 0, upstreamFailed: 0, keepalivesSent: 0, keepaliveFailures: 0 };

  const send = (res: http.ServerResponse, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const gate = primaryGate({ retryAfterMs: opts.retryAfterMs });
  const refuse = (res: http.ServerResponse, refusal: GateRefusal) => {
    if (refusal.code === 'NOT_PRIMARY') counters.refusedStandby++;
    else counters.refusedSwitching++;
    gate.send(res, refusal);
  };

  const handleAlert = async (body: Buffer, res: http.ServerResponse, ctx: ServiceContext) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (error) {
      counters.invalid++;
      send(res, 400, { code: 'BAD_JSON', message: (error as Error).message });
      return;
    }
    const alert = checkAlert(parsed);
    if (!alert.ok) {
      counters.invalid++;
      send(res, 400, { code: 'BAD_ALERT', message: alert.detail });
      return;
    }
    const pass = gate.check(ctx);
    if (!pass.pass) return refuse(res, pass);
    const { signal, epoch } = pass;
    try {
      await opts.api.forwardAlert(alert.value, ctx.nodeId, epoch, signal);
    } catch (error) {
      // Lost primary while forwarding, or the API knows a newer epoch: a switch is under way.
      if (signal.aborted || (error instanceof ApiError && error.status === 409)) return refuse(res, gate.refuseLost(ctx));
      counters.upstreamFailed++;
      send(res, 502, { code: 'UPSTREAM_FAILED', message: (error as Error).message });
      return;
    }
    opts.repo.noteAlert(alert.value, epoch);
    counters.processed++;
    send(res, 200, { code: 'PROCESSED', id: alert.value.id, nodeId: ctx.nodeId, epoch });
  };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse, ctx: ServiceContext) => {
    counters.requests++;
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/alerts') return send(res, 404, { code: 'NOT_FOUND', message: `no route ${path}; POST /alerts` });
    if (req.method !== 'POST') return send(res, 405, { code: 'METHOD_NOT_ALLOWED', message: 'use POST' }, { allow: 'POST' });
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) return send(res, 415, { code: 'UNSUPPORTED_MEDIA_TYPE', message: `content-type must be application/json, got ${JSON.stringify(type)}` });
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > opts.maxBodyBytes) {
      counters.tooLarge++;
      res.setHeader('connection', 'close');
      send(res, 413, { code: 'TOO_LARGE', message: `body of ${declared} bytes exceeds ${opts.maxBodyBytes}` });
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > opts.maxBodyBytes) {
        over = true;
        counters.tooLarge++;
        res.setHeader('connection', 'close');
        send(res, 413, { code: 'TOO_LARGE', message: `body exceeds ${opts.maxBodyBytes} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) void handleAlert(Buffer.concat(chunks), res, ctx).catch((error) => ctx.fail(error));
    });
    req.on('error', () => res.destroy());
  };

  const keepalive = (ctx: ServiceContext, signal: AbortSignal) => {
    const beat = () => {
      const t = ctx.current();
      if (signal.aborted || t?.to !== 'primary') return;
      opts.api.sendKeepAlive(ctx.nodeId, t.epoch, signal).then(
        () => counters.keepalivesSent++,
        () => {
          if (!signal.aborted) counters.keepaliveFailures++;
        },
      );
    };
    keepaliveTimer = setInterval(beat, opts.keepaliveIntervalMs);
    const timer = keepaliveTimer;
    signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    beat();
  };

  const definition = defineService({
    name: 'alert-receiver',
    start(ctx) {
      return new Promise<void>((resolve, reject) => {
        const s = http.createServer((req, res) => onRequest(req, res, ctx));
        s.requestTimeout = REQUEST_TIMEOUT_MS;
        s.headersTimeout = REQUEST_TIMEOUT_MS;
        s.maxConnections = MAX_CONNECTIONS;
        s.once('error', reject);
        s.listen(opts.port, opts.host, () => {
          s.removeListener('error', reject);
          s.on('error', (error) => ctx.fail(error));
          server = s;
          const a = s.address() as { address: string; port: number };
          ctx.log.info({ host: a.address, port: a.port }, `alert receiver on http://${a.address}:${a.port}/alerts`);
          opts.onListening?.({ host: a.address, port: a.port });
          resolve();
        });
      });
    },
    onRoleChange(t, ctx) {
      if (t.to === 'primary' && t.from !== 'primary') {
        const signal = ctx.primarySignal();
        if (!signal.aborted) keepalive(ctx, signal);
      }
    },
    stop() {
      if (keepaliveTimer !== null) clearInterval(keepaliveTimer);
      keepaliveTimer = null;
      const s = server;
      server = null;
      if (s === null) return;
      return new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
    status: () => ({ ...counters }),
  });
  return Object.assign(definition, {
    address: () => {
      const a = server?.address();
      return a && typeof a === 'object' ? { host: a.address, port: a.port } : null;
    },
  });
}
