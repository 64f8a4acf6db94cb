/**
 * The built-in status HTTP service, written on the same public service API users get.
 * It runs identically on primary and standby: operators need to see both nodes, and a
 * load balancer's health check needs an answer from each.
 */
import http from 'node:http';
import type { NodeStatus } from '../runtime/status.ts';
import { defineService, type ServiceDefinition } from './types.ts';

export interface StatusServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  getStatus: () => NodeStatus;
  /** Called once listening, with the bound port (useful when port is 0). */
  onListening?: (address: { host: string; port: number }) => void;
}

/** Requests to these read-only routes carry no body; anything larger is refused, not buffered. */
const MAX_BODY_BYTES = 1024;
const CLOSE_DEADLINE_MS = 2_000;
const ROUTES = new Set(['/status', '/healthz']);

function send(res: http.ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}, head = false) {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(head ? undefined : text);
}

export function statusService(opts: StatusServerOptions): ServiceDefinition & { address(): { host: string; port: number } | null } {
  let server: http.Server | null = null;
  let bound: { host: string; port: number } | null = null;

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!ROUTES.has(path)) return send(res, 404, { error: 'not found', path });
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return send(res, 405, { error: `method ${method} not allowed`, path }, { allow: 'GET, HEAD' });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      res.setHeader('connection', 'close');
      return send(res, 413, { error: `request body of ${declared} bytes; at most ${MAX_BODY_BYTES}` });
    }
    const head = method === 'HEAD';
    let status: NodeStatus;
    try {
      status = opts.getStatus();
    } catch (error) {
      return send(res, 500, { error: `status unavailable: ${(error as Error).message}` }, {}, head);
    }
    if (path === '/status') return send(res, 200, status, {}, head);
    if (status.role === 'unknown') return send(res, 503, { ok: false, role: status.role, reason: status.reason }, {}, head);
    return send(res, 200, { ok: true, role: status.role }, {}, head);
  };

  const definition = defineService({
    name: 'status-http',
    start: () =>
      new Promise<void>((resolve, reject) => {
        const s = http.createServer(handle);
        s.requestTimeout = 5_000;
        s.headersTimeout = 5_000;
        s.keepAliveTimeout = 5_000;
        s.maxHeadersCount = 50;
        s.once('error', (error) => reject(new Error(`status endpoint cannot listen on ${opts.host}:${opts.port}: ${error.message}`)));
        s.listen(opts.port, opts.host, () => {
          server = s;
          const addr = s.address() as { port: number };
          bound = { host: opts.host, port: addr.port };
          opts.onListening?.(bound);
          resolve();
        });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        const s = server;
        server = null;
        bound = null;
        if (s === null) return resolve();
        const timer = setTimeout(resolve, CLOSE_DEADLINE_MS);
        s.close(() => {
          clearTimeout(timer);
          resolve();
        });
        s.closeAllConnections();
      }),
    status: () => ({ address: bound === null ? null : `${bound.host}:${bound.port}` }),
  });
  return Object.assign(definition, { address: () => bound });
}
