/**
 * Datagram and body formats of the reference application. JSON, so that operators can read
 * them with tcpdump and clients in any language can speak them; every parser is total: it
 * returns a reason instead of throwing, and bounds sizes before parsing.
 */
import { internalBug } from '../assert.ts';

/** A monitor request is tiny; anything bigger is not one. */
export const MAX_REQUEST_BYTES = 512;
/** Fits a single unfragmented datagram on any Ethernet path. */
export const MAX_RESPONSE_BYTES = 1_400;
export const MAX_BMC_BYTES = 1_024;
export const MAX_ID_CHARS = 128;
export const MAX_ALERT_MESSAGE_CHARS = 1_024;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string; detail: string };

const fail = (reason: string, detail: string): { ok: false; reason: string; detail: string } => ({ ok: false, reason, detail });

function parseJsonObject(data: Uint8Array, maxBytes: number): Parsed<Record<string, unknown>> {
  if (data.length > maxBytes) return fail('too-large', `${data.length} bytes (limit ${maxBytes})`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return fail('not-utf8', 'not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail('bad-json', (error as Error).message);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not-object', 'expected a JSON object');
  return { ok: true, value: value as Record<string, unknown> };
}

const isId = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= MAX_ID_CHARS && !/[\u0000-\u001f]/.test(v);

// ---------------------------------------------------------------- resource monitor

export interface MonitorRequest {
  requestId: number;
}

export interface MonitorResponse {
  type: 'monitor-response';
  requestId: number;
  nodeId: string;
  epoch: number;
  boards: number;
  healthyBoards: number;
  stacks: number;
  /** Age of the repository's data, or null before the first successful collection. */
  dataAgeMs: number | null;
  stale: boolean;
}

export function encodeMonitorRequest(requestId: number): Buffer {
  return Buffer.from(JSON.stringify({ type: 'monitor-request', requestId }));
}

export function parseMonitorRequest(data: Uint8Array): Parsed<MonitorRequest> {
  const o = parseJsonObject(data, MAX_REQUEST_BYTES);
  if (!o.ok) return o;
  if (o.value.type !== 'monitor-request') return fail('wrong-type', `type ${JSON.stringify(o.value.type)}`);
  const id = o.value.requestId;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff) return fail('bad-request-id', `requestId must be a uint32, got ${JSON.stringify(id)}`);
  return { ok: true, value: { requestId: id } };
}

export function encodeMonitorResponse(r: Omit<MonitorResponse, 'type'>): Buffer {
  const data = Buffer.from(JSON.stringify({ type: 'monitor-response', ...r }));
  // Programmer error: every field is bounded, so this cannot be exceeded by input.
  if (data.length > MAX_RESPONSE_BYTES) throw internalBug(`monitor response of ${data.length} bytes exceeds ${MAX_RESPONSE_BYTES}`);
  return data;
}

const count = (n: unknown): number | null => (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null);

export function parseMonitorResponse(data: Uint8Array): Parsed<MonitorResponse> {
  const o = parseJsonObject(data, MAX_RESPONSE_BYTES);
  if (!o.ok) return o;
  const v = o.value;
  if (v.type !== 'monitor-response' || typeof v.requestId !== 'number' || typeof v.nodeId !== 'string') {
    return fail('wrong-type', 'not a monitor response');
  }
  // Every field is read and checked: a peer's reply is input like any other.
  const epoch = count(v.epoch);
  const boards = count(v.boards);
  const healthyBoards = count(v.healthyBoards);
  const stacks = count(v.stacks);
  if (epoch === null || boards === null || healthyBoards === null || stacks === null) {
    return fail('bad-field', `epoch, boards, healthyBoards and stacks must be non-negative integers, got ${JSON.stringify([v.epoch, v.boards, v.healthyBoards, v.stacks])}`);
  }
  const { dataAgeMs, stale } = v;
  if (dataAgeMs !== null && (typeof dataAgeMs !== 'number' || !(dataAgeMs >= 0))) return fail('bad-field', `dataAgeMs must be null or a non-negative number, got ${JSON.stringify(dataAgeMs)}`);
  if (typeof stale !== 'boolean') return fail('bad-field', `stale must be a boolean, got ${JSON.stringify(stale)}`);
  return { ok: true, value: { type: 'monitor-response', requestId: v.requestId, nodeId: v.nodeId, epoch, boards, healthyBoards, stacks, dataAgeMs, stale } };
}

// ---------------------------------------------------------------- BMC status

export const HEALTH = ['ok', 'warning', 'critical'] as const;
export type Health = (typeof HEALTH)[number];

export interface BmcStatus {
  boardId: string;
  health: Health;
  temperatureC: number | null;
}

export function encodeBmcStatus(s: BmcStatus): Buffer {
  return Buffer.from(JSON.stringify({ type: 'bmc-status', ...s }));
}

export function parseBmcStatus(data: Uint8Array): Parsed<BmcStatus> {
  const o = parseJsonObject(data, MAX_BMC_BYTES);
  if (!o.ok) return o;
  const v = o.value;
  if (v.type !== 'bmc-status') return fail('wrong-type', `type ${JSON.stringify(v.type)}`);
  if (!isId(v.boardId)) return fail('bad-board-id', 'boardId must be a string of 1..128 characters');
  if (!HEALTH.includes(v.health as Health)) return fail('bad-health', `health must be one of ${HEALTH.join(', ')}`);
  const t = v.temperatureC ?? null;
  if (t !== null && (typeof t !== 'number' || !Number.isFinite(t) || t < -100 || t > 300)) return fail('bad-temperature', 'temperatureC must be a number from -100 to 300');
  return { ok: true, value: { boardId: v.boardId, health: v.health as Health, temperatureC: t } };
}

// ---------------------------------------------------------------- board alerts (HTTP body)

export interface BoardAlert {
  id: string;
  boardId: string;
  level: Health;
  message: string;
}

/** Validates a parsed alert body; the error names the field. */
export function checkAlert(v: unknown): Parsed<BoardAlert> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail('not-object', 'body must be a JSON object');
  const o = v as Record<string, unknown>;
  if (!isId(o.id)) return fail('bad-field', 'id: must be a string of 1..128 characters without control characters');
  if (!isId(o.boardId)) return fail('bad-field', 'boardId: must be a string of 1..128 characters without control characters');
  if (!HEALTH.includes(o.level as Health)) return fail('bad-field', `level: must be one of ${HEALTH.join(', ')}`);
  if (typeof o.message !== 'string' || o.message.length > MAX_ALERT_MESSAGE_CHARS) return fail('bad-field', `message: must be a string of at most ${MAX_ALERT_MESSAGE_CHARS} characters`);
  const extra = Object.keys(o).find((k) => !['id', 'boardId', 'level', 'message'].includes(k));
  if (extra !== undefined) return fail('bad-field', `${extra.slice(0, 64)}: unknown field`);
  return { ok: true, value: { id: o.id, boardId: o.boardId, level: o.level as Health, message: o.message } };
}
