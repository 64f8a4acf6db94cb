/**
 * The epoch as a fencing token on the wire. A primary's service stamps every write it sends
 * downstream with two headers, and the downstream keeps the highest epoch it has seen and
 * refuses writes stamped lower: a deposed primary that has not yet noticed (a pause, a
 * partition) cannot overwrite the work of its successor, whose epoch is higher.
 *
 *   Hastate-Epoch: 42        the sender's epoch, a non-negative decimal integer
 *   Hastate-Node:  node-a    the sender's node id (for logs; the fence decides on the epoch)
 *
 * Equal epochs are admitted: one primary term sends many writes with the same epoch.
 */
import { apiMisuse } from '../assert.ts';

export const EPOCH_HEADER = 'Hastate-Epoch';
export const NODE_HEADER = 'Hastate-Node';

/** Longest decimal we accept: anything longer is not an epoch we could have sent. */
const MAX_EPOCH_DIGITS = 15;
/** Node ids are at most 31 UTF-8 bytes (ha.node_id); anything longer in a header is refused. */
const MAX_NODE_HEADER_CHARS = 64;

/** The headers to add to a request sent downstream under `epoch`. */
export function fenceHeaders(epoch: number, nodeId: string): Record<string, string> {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw apiMisuse(`epoch must be a non-negative safe integer, got ${epoch}`);
  return { [EPOCH_HEADER]: String(epoch), [NODE_HEADER]: encodeURIComponent(nodeId) };
}

export type FenceStamp = { ok: true; epoch: number; nodeId: string | null } | { ok: false; message: string };

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | string[] | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  return headers[name.toLowerCase()] ?? headers[name];
}

/**
 * Reads the stamp from a request's headers (node's `req.headers` or a fetch `Headers`).
 * Every problem is a message naming the header and what was wrong; nothing throws.
 */
export function readFenceHeaders(headers: HeaderSource): FenceStamp {
  const raw = header(headers, EPOCH_HEADER);
  if (raw === undefined) return { ok: false, message: `missing ${EPOCH_HEADER} header` };
  if (Array.isArray(raw)) return { ok: false, message: `${EPOCH_HEADER} header given ${raw.length} times; expected once` };
  const text = raw.trim();
  if (!new RegExp(`^(0|[1-9][0-9]{0,${MAX_EPOCH_DIGITS - 1}})$`).test(text)) {
    return { ok: false, message: `${EPOCH_HEADER} header ${JSON.stringify(text.slice(0, 40))} is not a non-negative decimal integer of at most ${MAX_EPOCH_DIGITS} digits` };
  }
  const node = header(headers, NODE_HEADER);
  if (Array.isArray(node)) return { ok: false, message: `${NODE_HEADER} header given ${node.length} times; expected once` };
  let nodeId: string | null = null;
  if (node !== undefined) {
    if (node.length > MAX_NODE_HEADER_CHARS) return { ok: false, message: `${NODE_HEADER} header is longer than ${MAX_NODE_HEADER_CHARS} characters` };
    try {
      nodeId = decodeURIComponent(node.trim());
    } catch {
      return { ok: false, message: `${NODE_HEADER} header ${JSON.stringify(node.slice(0, 40))} is not percent-encoded text` };
    }
  }
  return { ok: true, epoch: Number(text), nodeId };
}

export type FenceVerdict = { ok: true; epoch: number; highest: number } | { ok: false; epoch: number; highest: number; message: string };

/**
 * A downstream fence: `admit(epoch)` accepts an epoch at or above the highest seen (and raises
 * the highest), refuses one below it. Check and raise happen in one synchronous call, so call
 * it right before applying the write, with no `await` in between. The highest epoch lives in
 * memory: a downstream that must survive restarts should start from its persisted value
 * (`initialHighest`) and persist `highest` with the data it guards.
 */
export function createEpochFence(initialHighest = 0) {
  if (!Number.isSafeInteger(initialHighest) || initialHighest < 0) throw apiMisuse(`initialHighest must be a non-negative safe integer, got ${initialHighest}`);
  let highest = initialHighest;
  let refused = 0;
  return {
    admit(epoch: number): FenceVerdict {
      if (!Number.isSafeInteger(epoch) || epoch < 0) {
        refused++;
        return { ok: false, epoch, highest, message: `epoch ${epoch} is not a non-negative integer` };
      }
      if (epoch < highest) {
        refused++;
        return { ok: false, epoch, highest, message: `epoch ${epoch} is below ${highest}, the highest seen: the sender is no longer primary` };
      }
      highest = epoch;
      return { ok: true, epoch, highest };
    },
    /** Reads the stamp and admits its epoch; a missing or malformed stamp is refused too. */
    admitRequest(headers: HeaderSource): FenceVerdict & { nodeId: string | null } {
      const stamp = readFenceHeaders(headers);
      if (!stamp.ok) {
        refused++;
        return { ok: false, epoch: Number.NaN, highest, message: stamp.message, nodeId: null };
      }
      return { ...this.admit(stamp.epoch), nodeId: stamp.nodeId };
    },
    get highest(): number {
      return highest;
    },
    get refused(): number {
      return refused;
    },
  };
}

export type EpochFence = ReturnType<typeof createEpochFence>;
