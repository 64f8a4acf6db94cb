/**
 * Who may call the status endpoint's state-changing routes (POST /resign). Read-only routes
 * stay open to everyone who reaches the port; a resign forces a failover, so:
 *
 * - with a token configured, every caller must send `Authorization: Bearer <token>`, loopback
 *   callers included (401 with `WWW-Authenticate: Bearer` otherwise);
 * - without a token, only loopback peers may call them (403 for any other peer): an endpoint
 *   bound to 0.0.0.0 so that Prometheus can scrape /metrics keeps running, and keeps today's
 *   behaviour for `hastate resign` on the host itself, but cannot be used to force failovers
 *   from the network.
 *
 * The peer is the socket's remote address, never a header a client could forge.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { parseIPv4 } from '../../machines/identity.ts';

export type AccessVerdict = { ok: true } | { ok: false; status: 401 | 403; error: string; headers: Record<string, string> };

const REALM = 'Bearer realm="hastate"';

/** 127.0.0.0/8, ::1, and IPv4-mapped loopback (a dual-stack socket reports ::ffff:127.0.0.1). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === '::1') return true;
  return parseIPv4(address.startsWith('::ffff:') ? address.slice(7) : address)?.[0] === 127;
}

/** Whether a listening host keeps the endpoint on this machine (status.host). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host);
}

/** Digests have equal length whatever the inputs, so timingSafeEqual never sees a length mismatch to leak. */
const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export function createAccessCheck(token: string | null): (req: http.IncomingMessage) => AccessVerdict {
  const expected = token === null ? null : digest(token);
  return (req): AccessVerdict => {
    if (expected === null) {
      if (isLoopbackAddress(req.socket.remoteAddress)) return { ok: true };
      return {
        ok: false,
        status: 403,
        headers: {},
        error: 'state-changing requests are accepted only from loopback when no token is configured; set status.token_file or status.token_env on the node and send the token as a bearer credential',
      };
    }
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer[ ]+([\x21-\x7e]{1,1024})[ ]*$/i.exec(header);
    if (match === null) {
      return { ok: false, status: 401, headers: { 'www-authenticate': REALM }, error: 'a bearer token is required (Authorization: Bearer <token>)' };
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      return { ok: false, status: 401, headers: { 'www-authenticate': `${REALM}, error="invalid_token"` }, error: 'the bearer token is not valid' };
    }
    return { ok: true };
  };
}
