/**
 * A store that rejects writes carrying a fencing token lower than the highest it has accepted,
 * as a database or object store used by a leader-only service would. Real HTTP on loopback.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface FencedWrite {
  nodeId: string;
  token: number;
  seq: number;
  atMs: number;
}

export class FenceStore {
  readonly accepted: FencedWrite[] = [];
  readonly rejected: FencedWrite[] = [];
  highest = 0;
  #server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const w = { ...(JSON.parse(body) as Omit<FencedWrite, 'atMs'>), atMs: performance.now() };
      if (w.token < this.highest) {
        this.rejected.push(w);
        res.writeHead(409).end('stale token');
        return;
      }
      this.highest = w.token;
      this.accepted.push(w);
      res.writeHead(200).end('ok');
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.#server.address() as { port: number }).port}/write`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }
}
