import { HastateError } from '../errors.ts';
import type { NodeStatus } from '../runtime/status.ts';

/** One request to a node's status server; every failure is one HASTATE_STATUS_UNREACHABLE error naming the URL. */
async function callNode(url: string, path: string, method: 'GET' | 'POST', timeoutMs: number, token: string | null = null): Promise<unknown> {
  const target = `${url.replace(/\/+$/, '')}${path}`;
  let res: Response;
  try {
    res = await fetch(target, { method, signal: AbortSignal.timeout(timeoutMs), headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    throw new HastateError('HASTATE_STATUS_UNREACHABLE', `cannot reach ${target}: ${why}`, { cause: error });
  }
  const text = await res.text().catch(() => '');
  if (res.status === 401 || res.status === 403) {
    const hint = token === null ? 'send the node\'s token with --token-file FILE, or --config FILE naming status.token_file/token_env' : 'the token sent is not the node\'s';
    throw new HastateError('HASTATE_STATUS_UNAUTHORIZED', `${target} refused the request (HTTP ${res.status}): ${text.slice(0, 200).trim()}; ${hint}`);
  }
  if (res.status !== 200) throw new HastateError('HASTATE_STATUS_UNREACHABLE', `${target} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HastateError('HASTATE_STATUS_UNREACHABLE', `${target} answered with invalid JSON: ${text.slice(0, 200)}`);
  }
}

/** GET <url>/status with a deadline. */
export async function fetchStatus(url: string, timeoutMs = 2_000): Promise<NodeStatus> {
  return (await callNode(url, '/status', 'GET', timeoutMs)) as NodeStatus;
}

/** POST <url>/resign: asks a running primary to hand over now, with the bearer token when given. */
export async function requestResign(url: string, timeoutMs = 2_000, token: string | null = null): Promise<unknown> {
  return callNode(url, '/resign', 'POST', timeoutMs, token);
}

const age = (ms: number | null) => (ms === null ? '-' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Where this node coordinates: the multicast group, or the lease backend's server. */
function where(s: NodeStatus): string {
  const c = s.transport.coordinator;
  if (c === undefined) return s.backend === 'single' ? 'single (no coordination)' : `${s.transport.group}:${s.transport.port} via ${s.transport.interface}`;
  const server = typeof c.url === 'string' ? c.url : Array.isArray(c.endpoints) ? c.endpoints.join(',') : '?';
  const prefix = typeof c.keyPrefix === 'string' ? c.keyPrefix : typeof c.prefix === 'string' ? c.prefix : '';
  return `${s.backend} ${server} prefix ${prefix}`;
}

export function formatStatus(s: NodeStatus): string {
  const drops = Object.entries(s.droppedPackets.byReason)
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  const lines = [
    `node      ${s.nodeId}  ${s.role.toUpperCase()}  epoch ${s.epoch}  priority ${s.priority}${s.mode === 'auto' ? '' : `  (role forced: ${s.mode})`}`,
    s.timing.lease
      ? `primary   ${s.primaryId ?? '(none known)'}   lease ttl ${s.timing.lease.ttlMs / 1000} s, renew deadline ${s.timing.lease.renewDeadlineMs / 1000} s, retry ${s.timing.lease.retryPeriodMs / 1000} s`
      : `primary   ${s.primaryId ?? '(none known)'}   last primary heartbeat ${age(s.lastPrimaryHeartbeatAgeMs)} ago`,
    `changes   ${s.roleChanges}   last: ${s.reason}`,
    `${s.transport.coordinator ? 'backend  ' : 'transport'} ${s.transport.up ? 'up' : 'DOWN'} ${where(s)}${s.transport.lastError ? `   last error: ${s.transport.lastError}` : ''}`,
    s.transport.coordinator
      ? `requests  sent ${s.packets.sent}  answered ${s.packets.received}  failed ${s.packets.sendErrors}`
      : `packets   sent ${s.packets.sent}  received ${s.packets.received}  dropped ${s.droppedPackets.total}${drops ? ` (${drops})` : ''}`,
    '',
    table(
      ['NODE ID', 'ROLE', 'PRIORITY', 'EPOCH', 'LAST SEEN', 'ADDRESS'],
      s.peers.map((p) => [p.nodeId, p.role, String(p.priority), String(p.epoch), age(p.lastSeenAgeMs), p.address]),
    ),
    '',
    table(
      ['SERVICE', 'STATE', 'RESTARTS', 'LAST ERROR'],
      s.services.map((x) => [x.name, x.state, String(x.restarts), x.lastError ?? '-']),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

