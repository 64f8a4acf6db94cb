/**
 * Lua scripts for the Redis lease. Each runs atomically in the server, so a grant, its fencing
 * token and its announcement are one step: no token is issued without a grant, and no node
 * renews or releases a lease it does not hold.
 *
 * The lease value is `<token>:<nodeId>`: the token comes first because it has no `:`.
 * Times in the registry are the Redis server's clock (TIME), so node clocks need not agree.
 */

/**
 * KEYS: leader, token counter, leader info, events channel. ARGV: nodeId, ttlMs, minToken.
 * -> {1, value} | {0, holder}. The token exceeds minToken even if the counter was lost.
 */
export const ACQUIRE = `
local holder = redis.call('GET', KEYS[1])
if holder then return {0, holder} end
local token = redis.call('INCR', KEYS[2])
if token <= tonumber(ARGV[3]) then
  token = tonumber(ARGV[3]) + 1
  redis.call('SET', KEYS[2], token)
end
local value = token .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[2])
local t = redis.call('TIME')
redis.call('HSET', KEYS[3], 'nodeId', ARGV[1], 'token', token, 'acquiredAtMs', t[1] * 1000 + math.floor(t[2] / 1000))
redis.call('PUBLISH', KEYS[4], 'acquired ' .. value)
return {1, value}
`;

/** KEYS: leader, leader info. ARGV: value, ttlMs. -> {1, value} | {0, holder or nil} */
export const RENEW = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[2], 'renewedAtMs', t[1] * 1000 + math.floor(t[2] / 1000))
  return {1, holder}
end
return {0, holder}
`;

/** KEYS: leader, events channel. ARGV: value. -> 1 released | 0 not ours */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', KEYS[2], 'released ' .. ARGV[1])
  return 1
end
return 0
`;

/**
 * The worker registry (seed 002): one hash field per node, `<role> <epoch> <seenAtMs>`.
 * Every heartbeat also removes workers not seen within expiryMs, and returns the rest.
 * KEYS: workers. ARGV: nodeId, role, epoch, expiryMs. -> {nowMs, field, value, ...}
 */
export const HEARTBEAT = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. now)
local all = redis.call('HGETALL', KEYS[1])
local out = {now}
for i = 1, #all, 2 do
  local seen = tonumber(string.match(all[i + 1], '(%d+)$'))
  if seen == nil or now - seen > tonumber(ARGV[4]) then
    redis.call('HDEL', KEYS[1], all[i])
  else
    table.insert(out, all[i])
    table.insert(out, all[i + 1])
  end
end
return out
`;

/**
 * One live process per node id: the member key holds the incarnation (random, per process) of
 * the process that registered the id, and expires unless that process renews it every period.
 * A second live process finds another incarnation there and is refused; a restarted process
 * finds its dead predecessor's entry only until it expires.
 * KEYS: member key. ARGV: incarnation, ttlMs. -> {1, incarnation, 0} | {0, other, pttlMs}
 */
export const REGISTER = `
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, ARGV[1], 0}
end
return {0, v, redis.call('PTTL', KEYS[1])}
`;

/** KEYS: member key. ARGV: incarnation. -> 1 removed | 0 not ours */
export const UNREGISTER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/** `<token>:<nodeId>` -> parts; null for anything else (a value we did not write). */
export function parseLeaseValue(value: unknown): { token: number; nodeId: string } | null {
  if (typeof value !== 'string') return null;
  const colon = value.indexOf(':');
  if (colon <= 0) return null;
  const token = Number(value.slice(0, colon));
  if (!Number.isSafeInteger(token) || token <= 0) return null;
  return { token, nodeId: value.slice(colon + 1) };
}

export const leaseValue = (token: number, nodeId: string): string => `${token}:${nodeId}`;

/** The scripts by name: the Redis core asks for one by name, the shell runs its text. */
export const REDIS_SCRIPTS = { ACQUIRE, RENEW, RELEASE, HEARTBEAT, REGISTER, UNREGISTER } as const;
export type RedisScript = keyof typeof REDIS_SCRIPTS;
