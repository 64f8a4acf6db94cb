/**
 * The built-in status HTTP service, written on the same public service API users get.
 * It runs identically on primary and standby: operators need to see both nodes, and a
 * load balancer's health check needs an answer from each.
 *
 * Routes:
 *   GET  /status    the node's status (JSON)
 *   GET  /healthz   200 with the role; 503 while the node cannot reach its network
 *   GET  /metrics   Prometheus text (option getMetrics; 404 without it)
 *   POST /resign    hand the primary role over (option onResign; 404 without it); needs the bearer
 *                   token when one is configured, else a loopback peer (see status-auth.ts)
 *   GET  /          the live view page (on by default; option liveView: false turns it off)
 *   GET  /events    server-sent events for the live view: `history` once on connect, `role` per
 *                   role change, `status` snapshots every ~500 ms; at most 32 clients (503 beyond)
 */
import http from 'node:http';
import type { NodeStatus } from '../runtime/status.ts';
import { LIVE_VIEW_CSP, liveViewPage } from '../web/live-view.ts';
import { defineService, type ServiceDefinition } from './types.ts';
import { createAccessCheck } from './status-auth.ts';
import { HastateError } from '../errors.ts';

/** A role change as pushed to live-view clients; `at` (ISO time) is added by the server. */
export interface RoleEvent {
  from: string;
  to: string;
  epoch: number;
  primaryId: string | null;
  reason: string;
  at: string;
}

export interface StatusServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  getStatus: () => NodeStatus;
  /** GET /metrics: Prometheus exposition (e.g. `createNodeMetrics(node).render`). 404 when absent. */
  getMetrics?: () => Promise<{ contentType: string; body: string }>;
  /** POST /resign: hand the primary role over (e.g. `() => node.resign()`); its result is the JSON answer. 404 when absent. */
  onResign?: () => Promise<unknown>;
  /**
   * Bearer token that state-changing routes (POST /resign) require from every peer. null or
   * absent: those routes are served to loopback peers only (403 for others).
   */
  token?: string | null;
  /**
   * Role changes for the live view (e.g. `(l) => node.onRoleChange(l)`): called once when the
   * service starts; events need `from`, `to`, `epoch`, `primaryId`, `reason`. Without it, role
   * changes are derived from status snapshots (every `snapshotIntervalMs`).
   */
  subscribe?: (listener: (event: object) => void) => () => void;
  /** SVG inlined in the live view; read once when the service starts. Default: the repository's visualizations/role.svg. */
  diagramSvgPath?: string;
  /** Serve the live view (GET /, GET /events). Default true. */
  liveView?: boolean;
  /** Replaces the built-in live view HTML (no Content-Security-Policy is sent with it). */
  page?: () => string;
  /** Concurrent GET /events clients; more get 503. Default 32. */
  maxEventClients?: number;
  /** Period of status snapshots on GET /events. Default 500 ms. */
  snapshotIntervalMs?: number;
  /** Called once listening, with the bound port (useful when port is 0). */
  onListening?: (address: { host: string; port: number }) => void;
}

/** Requests carry no body (POST /resign at most a tiny one); anything larger is refused, not buffered. */
const MAX_BODY_BYTES = 1024;
const CLOSE_DEADLINE_MS = 2_000;
const ROUTES = new Set(['/status', '/healthz', '/metrics', '/resign', '/events', '/']);
/** Live-view clients are cheap but not free: cap them so a page left open everywhere cannot pile up. */
const DEFAULT_MAX_EVENT_CLIENTS = 32;
const DEFAULT_SNAPSHOT_EVERY_MS = 500;
/** Role changes replayed to a client that connects. */
const HISTORY_LENGTH = 50;
/** A client that does not read its stream is dropped before its buffer grows past this. */
const MAX_CLIENT_BUFFER_BYTES = 256 * 1024;

function send(res: http.ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}, head = false) {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(head ? undefined : text);
}

/**
 * A browser page from another site may POST to a loopback server (a "simple" request needs no
 * preflight). Browsers name the page's origin in `Origin`; command-line clients send none.
 */
function crossSite(req: http.IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) return true;
  const site = req.headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

function toRoleEvent(event: object): RoleEvent {
  const e = event as Partial<RoleEvent>;
  return {
    from: String(e.from ?? 'unknown'),
    to: String(e.to ?? 'unknown'),
    epoch: Number(e.epoch ?? 0),
    primaryId: e.primaryId ?? null,
    reason: String(e.reason ?? ''),
    at: new Date().toISOString(),
  };
}

export function statusService(opts: StatusServerOptions): ServiceDefinition & { address(): { host: string; port: number } | null } {
  const maxClients = opts.maxEventClients ?? DEFAULT_MAX_EVENT_CLIENTS;
  const snapshotEveryMs = opts.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_EVERY_MS;
  const liveView = opts.liveView ?? true;
  const mayChangeState = createAccessCheck(opts.token ?? null);
  let refusedStateChanges = 0;
  let server: http.Server | null = null;
  let bound: { host: string; port: number } | null = null;
  let pageHtml: string | null = null;
  let unsubscribe: (() => void) | null = null;
  let ticker: NodeJS.Timeout | null = null;
  /** Role and epoch of the last snapshot, to derive role events when there is no subscribe. */
  let lastSeen: { role: string; epoch: number } | null = null;
  const history: RoleEvent[] = [];
  const eventClients = new Set<http.ServerResponse>();

  const broadcast = (frame: string) => {
    for (const client of eventClients) {
      if (client.writableLength > MAX_CLIENT_BUFFER_BYTES) {
        eventClients.delete(client);
        client.destroy();
        continue;
      }
      client.write(frame);
    }
  };
  const frame = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

  const recordRole = (event: RoleEvent) => {
    history.push(event);
    if (history.length > HISTORY_LENGTH) history.shift();
    broadcast(frame('role', event));
  };

  const snapshot = (): NodeStatus | null => {
    try {
      return opts.getStatus();
    } catch {
      return null; // a status failure is visible on GET /status; the stream just skips a beat
    }
  };

  const tick = () => {
    if (eventClients.size === 0 && opts.subscribe !== undefined) return;
    const status = snapshot();
    if (status === null) return;
    if (opts.subscribe === undefined) {
      if (lastSeen !== null && (lastSeen.role !== status.role || lastSeen.epoch !== status.epoch)) {
        recordRole(toRoleEvent({ from: lastSeen.role, to: status.role, epoch: status.epoch, primaryId: status.primaryId, reason: status.reason }));
      }
      lastSeen = { role: status.role, epoch: status.epoch };
    }
    if (eventClients.size > 0) broadcast(frame('status', status));
  };

  const serveEvents = (req: http.IncomingMessage, res: http.ServerResponse, head: boolean) => {
    if (eventClients.size >= maxClients) return send(res, 503, { error: `at most ${maxClients} live-view clients` }, { 'retry-after': '5' }, head);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    if (head) return res.end();
    req.socket.setNoDelay(true);
    eventClients.add(res);
    res.write(`retry: 2000\n\n${frame('history', history)}`);
    const status = snapshot();
    if (status !== null) res.write(frame('status', status));
    const close = () => {
      eventClients.delete(res);
    };
    req.once('close', close);
    res.once('close', close);
    res.once('error', close);
  };

  const servePage = (res: http.ServerResponse, head: boolean) => {
    const html = opts.page?.() ?? pageHtml ?? liveViewPage(opts.diagramSvgPath);
    const headers: Record<string, string | number> = {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (opts.page === undefined) headers['content-security-policy'] = LIVE_VIEW_CSP;
    res.writeHead(200, headers);
    res.end(head ? undefined : html);
  };

  const resign = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const onResign = opts.onResign!;
    const access = mayChangeState(req);
    if (!access.ok) {
      refusedStateChanges++;
      return send(res, access.status, { error: access.error }, access.headers);
    }
    if (crossSite(req)) return send(res, 403, { error: 'cross-site request refused' });
    // Only a bodyless or tiny body is accepted, whatever the framing (chunked bodies have no length).
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES && !refused) {
        refused = true;
        req.pause();
        send(res, 413, { error: `request body over ${MAX_BODY_BYTES} bytes` }, { connection: 'close' });
      }
    });
    req.once('end', () => {
      if (refused) return;
      onResign().then(
        (result) => send(res, 200, result ?? { ok: true }),
        (error: unknown) => send(res, 500, { error: `resign failed: ${error instanceof Error ? error.message : String(error)}` }),
      );
    });
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!ROUTES.has(path)) return send(res, 404, { error: 'not found', path });
    const method = req.method ?? 'GET';
    const declared = Number(req.headers['content-length'] ?? 0);
    if (!(declared <= MAX_BODY_BYTES)) {
      res.setHeader('connection', 'close');
      return send(res, 413, { error: `request body of ${req.headers['content-length']} bytes; at most ${MAX_BODY_BYTES}` });
    }
    if (path === '/resign') {
      if (opts.onResign === undefined) return send(res, 404, { error: 'resign is not available on this server', path });
      if (method !== 'POST') return send(res, 405, { error: `method ${method} not allowed`, path }, { allow: 'POST' });
      return resign(req, res);
    }
    if (method !== 'GET' && method !== 'HEAD') return send(res, 405, { error: `method ${method} not allowed`, path }, { allow: 'GET, HEAD' });
    const head = method === 'HEAD';
    if (path === '/metrics') {
      if (opts.getMetrics === undefined) return send(res, 404, { error: 'metrics are not enabled', path }, {}, head);
      opts.getMetrics().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
          res.end(head ? undefined : body);
        },
        (error: Error) => send(res, 500, { error: `metrics failed: ${error.message}` }, {}, head),
      );
      return;
    }
    if (path === '/' || path === '/events') {
      if (!liveView) return send(res, 404, { error: 'the live view is disabled on this server', path }, {}, head);
      return path === '/' ? servePage(res, head) : serveEvents(req, res, head);
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
        if (liveView && opts.page === undefined) pageHtml = liveViewPage(opts.diagramSvgPath);
        // Subscribe before listening so the first role changes are in the history.
        if (liveView && unsubscribe === null) {
          try {
            unsubscribe = opts.subscribe?.((event) => {
              recordRole(toRoleEvent(event));
              // The new state right behind the event (after the machine settles), not up to 500 ms later.
              setImmediate(() => {
                const status = eventClients.size > 0 ? snapshot() : null;
                if (status !== null) broadcast(frame('status', status));
              });
            }) ?? null;
          } catch {
            unsubscribe = null; // the stream still carries snapshots
          }
        }
        const s = http.createServer(handle);
        s.requestTimeout = 5_000;
        s.headersTimeout = 5_000;
        s.keepAliveTimeout = 5_000;
        s.maxHeadersCount = 50;
        s.once('error', (error) => {
          unsubscribe?.();
          unsubscribe = null;
          reject(new HastateError('HASTATE_STATUS_LISTEN', `status endpoint cannot listen on ${opts.host}:${opts.port}: ${error.message}`, { cause: error }));
        });
        s.listen(opts.port, opts.host, () => {
          server = s;
          const addr = s.address() as { port: number };
          bound = { host: opts.host, port: addr.port };
          if (liveView) {
            ticker = setInterval(tick, snapshotEveryMs);
            ticker.unref();
          }
          opts.onListening?.(bound);
          resolve();
        });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        const s = server;
        server = null;
        bound = null;
        if (ticker !== null) clearInterval(ticker);
        ticker = null;
        unsubscribe?.();
        unsubscribe = null;
        lastSeen = null;
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
    status: () => ({ address: bound === null ? null : `${bound.host}:${bound.port}`, liveViewClients: eventClients.size, refusedStateChanges }),
  });
  return Object.assign(definition, { address: () => bound });
}
