/**
 * The primary gate for HTTP handlers that every node serves but only the primary may act on.
 * One place decides, from the service's context, whether a request passes, and otherwise
 * answers so that a client knows what to do next:
 *
 * | node                                   | status | body `code`      | client should            |
 * |----------------------------------------|--------|------------------|--------------------------|
 * | primary (lease still valid)            | pass   |                  |                          |
 * | standby that knows the primary         | 503    | `NOT_PRIMARY`    | go to `primary`/`primaryUrl` |
 * | electing, unknown, standby without a primary, primary whose lease lapsed, role lost mid-request | 503 | `SWITCHING_OVER` | retry after Retry-After |
 *
 * Refusals carry `Retry-After` (whole seconds), `X-HA-Role`, and `Hastate-Primary` when the
 * primary is known; the body is `{code, role, primary, retryAfterMs}` plus `primaryUrl` (option
 * `locate`) and `errorNo` (options `notPrimaryErrorNo` / `switchingErrorNo`, e.g. seed 004's
 * 308000000 for a switch in progress) when configured.
 *
 * A pass carries the epoch, the fence headers to stamp downstream writes with, and the primary
 * signal taken at the check: it aborts the moment the role is lost, so work started for the
 * request is cancelled, and `refuseLost` answers the request as a switch.
 */
import type http from 'node:http';
import type { Role } from '../../machines/service.machine.ts';
import type { ServiceContext } from './types.ts';
import { fenceHeaders } from './epoch-fence.ts';
import { apiMisuse } from '../assert.ts';

export const PRIMARY_HEADER = 'Hastate-Primary';

export interface PrimaryGateOptions {
  /** Retry-After of refusals, in milliseconds (sent rounded up to whole seconds, at least 1). Default 1000. */
  retryAfterMs?: number;
  /** How clients reach a node, by id (e.g. a base URL), or null when unknown. Goes into `primaryUrl`. */
  locate?: (nodeId: string) => string | null;
  /** Numeric error code put into the body of NOT_PRIMARY refusals as `errorNo`. */
  notPrimaryErrorNo?: number;
  /** Numeric error code put into the body of SWITCHING_OVER refusals as `errorNo` (seed 004: 308000000). */
  switchingErrorNo?: number;
}

export type RefusalCode = 'NOT_PRIMARY' | 'SWITCHING_OVER';

export interface GateRefusal {
  pass: false;
  status: 503;
  code: RefusalCode;
  body: { code: RefusalCode; role: Role; primary: string | null; retryAfterMs: number; primaryUrl?: string; errorNo?: number };
  headers: Record<string, string>;
}

export interface GatePass {
  pass: true;
  epoch: number;
  nodeId: string;
  /** Aborted the moment this node stops being primary: pass it to the request's work. */
  signal: AbortSignal;
  /** `Hastate-Epoch` and `Hastate-Node` for requests sent downstream on behalf of this one. */
  fence: Record<string, string>;
}

export type GateDecision = GatePass | GateRefusal;

const DEFAULT_RETRY_AFTER_MS = 1_000;

function checkErrorNo(name: string, v: number | undefined): void {
  if (v !== undefined && !Number.isSafeInteger(v)) throw apiMisuse(`primaryGate: ${name} must be an integer, got ${v}`, TypeError);
}

export function primaryGate(opts: PrimaryGateOptions = {}) {
  const retryAfterMs = opts.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
  if (!Number.isFinite(retryAfterMs) || retryAfterMs <= 0) throw apiMisuse(`primaryGate: retryAfterMs must be a positive number of milliseconds, got ${retryAfterMs}`, TypeError);
  checkErrorNo('notPrimaryErrorNo', opts.notPrimaryErrorNo);
  checkErrorNo('switchingErrorNo', opts.switchingErrorNo);
  const retryAfter = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  const counters = { passed: 0, notPrimary: 0, switching: 0 };

  const refusal = (code: RefusalCode, role: Role, primary: string | null): GateRefusal => {
    const body: GateRefusal['body'] = { code, role, primary, retryAfterMs };
    const url = primary === null ? null : (opts.locate?.(primary) ?? null);
    if (url !== null) body.primaryUrl = url;
    const errorNo = code === 'NOT_PRIMARY' ? opts.notPrimaryErrorNo : opts.switchingErrorNo;
    if (errorNo !== undefined) body.errorNo = errorNo;
    const headers: Record<string, string> = { 'retry-after': retryAfter, 'x-ha-role': role };
    if (primary !== null) headers[PRIMARY_HEADER.toLowerCase()] = encodeURIComponent(primary);
    if (code === 'NOT_PRIMARY') counters.notPrimary++;
    else counters.switching++;
    return { pass: false, status: 503, code, body, headers };
  };

  const gate = {
    /**
     * Decides for a request arriving now. Passes only when the latest transition says primary
     * and `ctx.isPrimary()` agrees (with a lease backend it is false once the renew deadline
     * passed, before the machine has noticed).
     */
    check(ctx: ServiceContext): GateDecision {
      const t = ctx.current();
      const role: Role = t?.to ?? 'unknown';
      if (t !== null && role === 'primary' && ctx.isPrimary()) {
        const signal = ctx.primarySignal();
        if (!signal.aborted) {
          counters.passed++;
          return { pass: true, epoch: t.epoch, nodeId: ctx.nodeId, signal, fence: fenceHeaders(t.epoch, ctx.nodeId) };
        }
      }
      const primary = t?.primaryId ?? null;
      if (role === 'standby' && primary !== null && primary !== ctx.nodeId) return refusal('NOT_PRIMARY', role, primary);
      // A primary that fails the checks above is losing its role: that is a switch, not a standby.
      return refusal('SWITCHING_OVER', role === 'primary' ? 'electing' : role, role === 'primary' ? null : primary);
    },
    /**
     * The answer for a request whose pass was revoked while it ran (its signal aborted, or a
     * downstream fence refused its epoch): NOT_PRIMARY if the node already knows the new
     * primary, SWITCHING_OVER otherwise, never a pass.
     */
    refuseLost(ctx: ServiceContext): GateRefusal {
      const now = gate.check(ctx);
      if (!now.pass) return now;
      counters.passed--;
      return refusal('SWITCHING_OVER', 'electing', null);
    },
    /** Writes a refusal as JSON. */
    send(res: http.ServerResponse, refused: GateRefusal): void {
      const text = JSON.stringify(refused.body);
      res.writeHead(refused.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...refused.headers });
      res.end(text);
    },
    /**
     * Wraps a handler: refusals are answered here, the handler runs only on a pass. A handler
     * that throws or rejects after its pass was revoked is answered as a switch; other errors
     * are answered 500 (when nothing was sent yet) and logged: one bad request must not
     * restart the service.
     */
    guard(ctx: ServiceContext, handler: (req: http.IncomingMessage, res: http.ServerResponse, pass: GatePass) => void | Promise<void>) {
      return (req: http.IncomingMessage, res: http.ServerResponse): void => {
        const decision = gate.check(ctx);
        if (!decision.pass) {
          req.resume();
          return gate.send(res, decision);
        }
        Promise.resolve()
          .then(() => handler(req, res, decision))
          .catch((error: unknown) => {
            if (res.headersSent) return void res.destroy();
            if (decision.signal.aborted) return gate.send(res, gate.refuseLost(ctx));
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ code: 'INTERNAL', message: 'the handler failed' }));
            ctx.log.error({ err: error }, 'gated handler failed');
          });
      };
    },
    /** Decisions so far, for a service's status. */
    counters: (): Readonly<typeof counters> => ({ ...counters }),
  };
  return gate;
}

export type PrimaryGate = ReturnType<typeof primaryGate>;
