/**
 * Client of the external resource API (the seed's QywApiClient): boards, stacks, keep-alive
 * and alert forwarding. Every call is bounded by a timeout and retried a bounded number of
 * times with backoff; every outcome is counted. Responses are validated: a malformed body is
 * a failed call, never data in the repository.
 */
import type { Board, Stack } from './repository.ts';
import { HEALTH, type BoardAlert, type Health } from './protocol.ts';
import { fenceHeaders } from '../services/epoch-fence.ts';
import { HastateError } from '../errors.ts';

export interface ApiClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Retries after the first attempt; default 2. */
  retries?: number;
  /** First backoff between attempts; doubles each time. Default 100 ms. */
  retryBaseMs?: number;
}

export interface ApiCounters {
  calls: number;
  failures: number;
  timeouts: number;
  retries: number;
  lastError: string | null;
}

/** The API answered, but not with what we asked for. Not retried when 4xx. */
export class ApiError extends HastateError {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super('HASTATE_REFERENCE_API', message);
    this.name = 'ApiError';
  }
}

/** Upper bound for a response body we are willing to read. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

function checkBoards(v: unknown): Board[] {
  if (!Array.isArray(v)) throw new ApiError('boards: expected a JSON array', null);
  return v.map((b, i) => {
    const o = b as Record<string, unknown>;
    if (typeof o?.id !== 'string' || typeof o.slot !== 'number' || !HEALTH.includes(o.status as Health)) {
      throw new ApiError(`boards[${i}]: expected {id: string, slot: number, status: ${HEALTH.join('|')}}`, null);
    }
    return { id: o.id, slot: o.slot, status: o.status as Health };
  });
}

function checkStacks(v: unknown): Stack[] {
  if (!Array.isArray(v)) throw new ApiError('stacks: expected a JSON array', null);
  return v.map((s, i) => {
    const o = s as Record<string, unknown>;
    if (typeof o?.id !== 'string' || !Array.isArray(o.boards) || !o.boards.every((b) => typeof b === 'string') || typeof o.state !== 'string') {
      throw new ApiError(`stacks[${i}]: expected {id: string, boards: string[], state: string}`, null);
    }
    return { id: o.id, boards: o.boards as string[], state: o.state };
  });
}

export class ApiClient {
  readonly counters: ApiCounters = { calls: 0, failures: 0, timeouts: 0, retries: 0, lastError: null };
  readonly #retries: number;
  readonly #retryBaseMs: number;
  constructor(readonly opts: ApiClientOptions) {
    this.#retries = opts.retries ?? 2;
    this.#retryBaseMs = opts.retryBaseMs ?? 100;
  }

  getBoards(signal?: AbortSignal): Promise<Board[]> {
    return this.#call('GET', '/boards', undefined, signal).then(checkBoards);
  }

  getStacks(signal?: AbortSignal): Promise<Stack[]> {
    return this.#call('GET', '/stacks', undefined, signal).then(checkStacks);
  }

  sendKeepAlive(nodeId: string, epoch: number, signal?: AbortSignal): Promise<void> {
    return this.#call('POST', '/keepalive', { nodeId, epoch }, signal).then(() => undefined);
  }

  /** Hands a processed alert to the API, fenced by the epoch: a stale primary is refused (409). */
  forwardAlert(alert: BoardAlert, nodeId: string, epoch: number, signal?: AbortSignal): Promise<void> {
    return this.#call('POST', '/alerts', { alert, nodeId, epoch }, signal, fenceHeaders(epoch, nodeId)).then(() => undefined);
  }

  async #call(method: string, path: string, body: unknown, signal: AbortSignal | undefined, headers: Record<string, string> = {}): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      this.counters.calls++;
      try {
        return await this.#once(method, path, body, signal, headers);
      } catch (error) {
        this.counters.failures++;
        this.counters.lastError = `${method} ${path}: ${(error as Error).message}`;
        const clientError = error instanceof ApiError && error.status !== null && error.status < 500;
        if (clientError || attempt >= this.#retries || signal?.aborted) throw error;
        this.counters.retries++;
        await new Promise((r) => setTimeout(r, this.#retryBaseMs * 2 ** attempt));
      }
    }
  }

  async #once(method: string, path: string, body: unknown, signal: AbortSignal | undefined, headers: Record<string, string>): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetch(this.opts.baseUrl + path, {
        method,
        signal: combined,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      if (timeout.aborted) {
        this.counters.timeouts++;
        throw new ApiError(`no answer within ${this.opts.timeoutMs} ms`, null);
      }
      throw new ApiError(`request failed: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`, null);
    }
    const text = await res.text();
    if (text.length > MAX_RESPONSE_BYTES) throw new ApiError(`response larger than ${MAX_RESPONSE_BYTES} bytes`, res.status);
    if (!res.ok) throw new ApiError(`HTTP ${res.status}: ${text.slice(0, 200)}`, res.status);
    if (text === '') return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError('response is not JSON', res.status);
    }
  }
}
