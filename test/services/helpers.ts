/** Shared helpers for the status server tests: raw HTTP requests and an SSE reader with deadlines. */
import http from 'node:http';
import type { NodeStatus } from '../../src/runtime/status.ts';
import { until } from '../until.ts';

export function fakeStatus(over: Partial<NodeStatus> = {}): NodeStatus {
  return {
    nodeId: '127.0.0.9',
    role: 'standby',
    statePaths: ['standby.watch.watching', 'standby.beat.beating'],
    epoch: 3,
    priority: 0,
    mode: 'auto',
    preempt: false,
    primaryId: '127.0.0.8',
    backend: 'multicast',
    lastPrimaryHeartbeatAgeMs: 120,
    roleChanges: 2,
    reason: 'found a live primary 127.0.0.8',
    droppedPackets: { total: 0, byReason: {} },
    packets: { sent: 4, received: 9, sendErrors: 0 },
    transport: { up: true, lastError: null, group: '239.255.1.1', port: 9999, interface: '127.0.0.1' },
    timing: { electionWindowMs: 100, heartbeatIntervalMs: 50, heartbeatTimeoutMs: 150 },
    peers: [{ nodeId: '127.0.0.8', role: 'primary', priority: 0, epoch: 3, address: '127.0.0.1', lastSeenAgeMs: 40 }],
    services: [{ name: 'status-http', state: 'running', restarts: 0, failures: 0, lastError: null }],
    uptimeMs: 1000,
    pid: 1,
    version: '0.0.0',
    ...over,
  };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with full control of headers and body framing (chunks: sent chunked when no content-length). */
export function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, chunks: string[] = []): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close the socket after refusing a body it did not want to read.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
      reject(error);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer within 5 s`)));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

export interface SseEvent {
  type: string;
  data: unknown;
}

/** A GET /events stream; `next` waits for an event matching `pred` (events are consumed in order). */
export async function openEvents(base: string) {
  const controller = new AbortController();
  const res = await fetch(`${base}/events`, { signal: controller.signal });
  const events: SseEvent[] = [];
  let consumed = 0;
  let ended = false;
  if (res.status === 200) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        const reader = res.body!.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const type = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (type !== undefined && data !== undefined) events.push({ type, data: JSON.parse(data) });
          }
        }
      } catch {
        // aborted
      }
      ended = true;
    })();
  }
  return {
    res,
    events,
    ended: () => ended,
    /** The next event (after those already returned or passed over) that matches `pred`. */
    next(what: string, pred: (e: SseEvent) => boolean, deadlineMs = 5000): Promise<SseEvent> {
      return until(
        `a ${what} event`,
        () => {
          while (consumed < events.length) {
            const e = events[consumed++]!;
            if (pred(e)) return e;
          }
          return undefined;
        },
        { deadlineMs, context: () => `got ${JSON.stringify(events.map((e) => e.type))}` },
      );
    },
    close: () => controller.abort(),
  };
}

