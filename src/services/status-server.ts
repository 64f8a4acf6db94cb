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
  /** GET /metrics: Prometheus exposition. 404 when absent. */
  getMetrics?: () => Promise<{ contentType: string; body: string }>;
  /** POST /resign: hand the primary role over. 404 when absent. */
  onResign?: () => Promise<unknown>;
  /** Role-change events pushed to GET /events subscribers (the live view). */
  subscribe?: (listener: (event: object) => void) => () => void;
  /** The HTML of GET / (the live view). 404 when absent. */
  page?: () => string;
  /** Called once listening, with the bound port (useful when port is 0). */
  onListening?: (address: { host: string; port: number }) => void;
}

/** Requests to these read-only routes carry no body; anything larger is refused, not buffered. */
const MAX_BODY_BYTES = 1024;
const CLOSE_DEADLINE_MS = 2_000;
const ROUTES = new Set(['/status', '/healthz', '/metrics', '/resign', '/events', '/']);
/** Live-view clients are cheap but not free: cap them so a page left open everywhere cannot pile up. */
const MAX_EVENT_CLIENTS = 32;
const SNAPSHOT_EVERY_MS = 500;

function send(res: http.ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}, head = false) {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(head ? undefined : text);
}

export function statusService(opts: StatusServerOptions): ServiceDefinition & { address(): { host: string; port: number } | null } {
  let server: http.Server | null = null;
  let bound: { host: string; port: number } | null = null;
  const eventClients = new Set<http.ServerResponse>();

  const serveEvents = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (eventClients.size >= MAX_EVENT_CLIENTS) return send(res, 503, { error: `at most ${MAX_EVENT_CLIENTS} live-view clients` }, { 'retry-after': '5' });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    eventClients.add(res);
    const push = (type: string, data: unknown) => res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
    const snapshot = () => {
      try {
        push('status', opts.getStatus());
      } catch {
        // a status failure is visible on GET /status; the stream just skips a beat
      }
    };
    snapshot();
    const timer = setInterval(snapshot, SNAPSHOT_EVERY_MS);
    const unsubscribe = opts.subscribe?.((event) => {
      push('role', event);
      snapshot();
    });
    const close = () => {
      clearInterval(timer);
      unsubscribe?.();
      eventClients.delete(res);
    };
    req.once('close', close);
    res.once('close', close);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!ROUTES.has(path)) return send(res, 404, { error: 'not found', path });
    const method = req.method ?? 'GET';
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      res.setHeader('connection', 'close');
      return send(res, 413, { error: `request body of ${declared} bytes; at most ${MAX_BODY_BYTES}` });
    }
    if (path === '/resign') {
      if (opts.onResign === undefined) return send(res, 404, { error: 'resign is not available on this server', path });
      if (method !== 'POST') return send(res, 405, { error: `method ${method} not allowed`, path }, { allow: 'POST' });
      opts.onResign().then(
        (result) => send(res, 200, result),
        (error: Error) => send(res, 500, { error: `resign failed: ${error.message}` }),
      );
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') return send(res, 405, { error: `method ${method} not allowed`, path }, { allow: 'GET, HEAD' });
    const head = method === 'HEAD';
    if (path === '/metrics') {
      if (opts.getMetrics === undefined) return send(res, 404, { error: 'metrics are not enabled', path });
      opts.getMetrics().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
          res.end(head ? undefined : body);
        },
        (error: Error) => send(res, 500, { error: `metrics failed: ${error.message}` }),
      );
      return;
    }
    if (path === '/events') return serveEvents(req, res);
    if (path === '/') {
      if (opts.page === undefined) return send(res, 404, { error: 'no live view on this server', path });
      const html = opts.page();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store' });
      res.end(head ? undefined : html);
      return;
    }
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
        for (const client of eventClients) client.end();
        eventClients.clear();
        const timer = setTimeout(resolve, CLOSE_DEADLINE_MS);
        s.close(() => {
          clearTimeout(timer);
          resolve();
        });
        s.closeAllConnections();
      }),
    status: () => ({ address: bound === null ? null : `${bound.host}:${bound.port}`, liveViewClients: eventClients.size }),
  });
  return Object.assign(definition, { address: () => bound });
}
