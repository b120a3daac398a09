/**
 * Lua scripts the Redis backend runs on the server, so that conditional writes are atomic.
 * Values are stored packed as `<version>:<expiresAt>:<bytes>`, one plain string per key with
 * a PX expiry (Redis enforces it; `expiresAt`, the writer's epoch ms, only lets a plain GET
 * report the remaining TTL). Neither version nor expiresAt contains ':'.
 */

/**
 * KEYS[1]; ARGV: mode ('equal' | 'notEqual' | 'version'), operand (bytes or version),
 * new packed value, ttl ms. Returns 1 when stored, 0 when the condition failed.
 */
export const SET_IF = `
local current = redis.call('GET', KEYS[1])
local mode = ARGV[1]
local holds
if not current then
  holds = (mode == 'notEqual')
else
  local first = string.find(current, ':', 1, true)
  local second = first and string.find(current, ':', first + 1, true)
  if not second then return redis.error_reply('SB_CACHE_FOREIGN_VALUE the key holds a value not written by Switchboard') end
  if mode == 'version' then
    holds = (string.sub(current, 1, first - 1) == ARGV[2])
  elseif mode == 'equal' then
    holds = (string.sub(current, second + 1) == ARGV[2])
  elseif mode == 'notEqual' then
    holds = (string.sub(current, second + 1) ~= ARGV[2])
  else
    return redis.error_reply('ERR unknown condition ' .. mode)
  end
end
if not holds then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
return 1
`;

/**
 * KEYS[1] a load lock; ARGV[1] the holder's token. Deletes the lock only if that token still
 * holds it: a holder whose lock expired and was taken by another instance must not free it.
 */
export const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
