/*
 * The Lua scripts that keep one chain in Redis. Redis runs each one whole,
 * alone: that is what makes an append or a burn all-or-nothing across
 * replicas. Hashes are computed in Node (Redis 7 has no SHA-256 in Lua, and
 * a Lua one would freeze it), so a script only checks that the head is still
 * the one the blocks were hashed on: a compare-and-set.
 *
 * Keys: KEYS[1] the head (a hash: epoch, length, hash, bytes), KEYS[2] the
 * chain (a stream, one entry per append, field b its blocks' JSON text,
 * one per line, with ids "<epoch + 1>-<index of its first block>": they keep
 * increasing across burns, and 0-0 is not a legal id).
 *
 * A script that grows a chain's streams publishes a tick on the chain's
 * sharded channel (its last ARGV, in the chain's slot), so that every
 * replica following it reads what is new (redis-link.ts). The tick is the
 * id of the chain's new entry and the replica that wrote it, or empty for a
 * shared event: a replica never reads its own append back.
 */

/** ARGV: epoch, genesis text, genesis hash, genesis bytes, the tick's channel. Creates the chain if there is none. */
export const INIT = `#!lua
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('XADD', KEYS[2], (tonumber(ARGV[1]) + 1) .. '-0', 'b', ARGV[2])
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'length', 1, 'hash', ARGV[3], 'bytes', ARGV[4])
redis.call('SPUBLISH', ARGV[5], (tonumber(ARGV[1]) + 1) .. '-0')
return 1
`

/**
 * ARGV: epoch, length, head hash (what the blocks were hashed on), the new
 * head hash, the bytes added, how many blocks, their texts, one per
 * line (JSON text never holds a raw newline), the tick's channel, the replica. The batch is one stream entry, whose id is its first block's: a
 * script call costs Redis one XADD, however many blocks it carries. Returns
 * {1} when appended, or {0, epoch, length} of the head that moved.
 */
export const APPEND = `#!lua
local head = redis.call('HMGET', KEYS[1], 'epoch', 'length', 'hash')
if head[1] ~= ARGV[1] or head[2] ~= ARGV[2] or head[3] ~= ARGV[3] then
  return {0, head[1] or '', head[2] or ''}
end
if tonumber(ARGV[6]) == 0 then return {1} end
redis.call('XADD', KEYS[2], (tonumber(ARGV[1]) + 1) .. '-' .. ARGV[2], 'b', ARGV[7])
redis.call('HSET', KEYS[1], 'length', tonumber(ARGV[2]) + tonumber(ARGV[6]), 'hash', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'bytes', ARGV[5])
redis.call('SPUBLISH', ARGV[8], (tonumber(ARGV[1]) + 1) .. '-' .. ARGV[2] .. ' ' .. ARGV[9])
return {1}
`

/**
 * ARGV: epoch, length and head hash the burn was decided on (length and
 * hash empty: whatever the chain holds now, as the admin's button does; all
 * three empty: whatever the epoch), the reason, then genesis's text, hash
 * and bytes. Returns {1, burned, new epoch}, or {0, epoch, length} of the
 * head that moved.
 */
export const BURN = `#!lua
local head = redis.call('HMGET', KEYS[1], 'epoch', 'length', 'hash')
if (ARGV[1] ~= '' and head[1] ~= ARGV[1]) or (ARGV[2] ~= '' and (head[2] ~= ARGV[2] or head[3] ~= ARGV[3])) then
  return {0, head[1] or '', head[2] or ''}
end
local burned = tonumber(head[2]) - 1
local epoch = tonumber(head[1]) + 1
redis.call('DEL', KEYS[2])
redis.call('XADD', KEYS[2], (epoch + 1) .. '-0', 'b', ARGV[5], 'reason', ARGV[4], 'burned', burned)
redis.call('HSET', KEYS[1], 'epoch', epoch, 'length', 1, 'hash', ARGV[6], 'bytes', ARGV[7])
redis.call('SPUBLISH', ARGV[8], (epoch + 1) .. '-0')
return {1, burned, epoch}
`

/**
 * An event every replica shows (an alert, a setting changed). KEYS[1] the
 * events stream. ARGV: how many to keep, the replica, the event's JSON, the
 * tick's channel.
 */
export const SHARE = `#!lua
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'r', ARGV[2], 'e', ARGV[3])
redis.call('SPUBLISH', ARGV[4], '')
`

/**
 * A frequency alert rule's window, shared by every replica. KEYS[1] the
 * rule's groups (a sorted set: group, scored by its last match), KEYS[2]
 * this group's matches (a sorted set scored by time). ARGV: time, window
 * (ms), threshold, most groups, a unique member for this match, the group.
 * Returns {the matches within the window, the group pushed out or ''}; at
 * the threshold the group's window empties, so one replica alone sees it
 * reached. The group pushed out has its matches deleted by the caller: a
 * script touches only the keys it is given, as a cluster requires.
 */
export const TALLY = `#!lua
local time = tonumber(ARGV[1])
local within = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', time - within)
redis.call('ZADD', KEYS[2], time, ARGV[5])
local count = redis.call('ZCARD', KEYS[2])
if count >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], ARGV[6])
  return {count, ''}
end
redis.call('PEXPIRE', KEYS[2], within)
redis.call('ZADD', KEYS[1], time, ARGV[6])
redis.call('PEXPIRE', KEYS[1], within)
if redis.call('ZCARD', KEYS[1]) > tonumber(ARGV[4]) then
  return {count, redis.call('ZPOPMIN', KEYS[1])[1]}
end
return {count, ''}
`

/**
 * A flatline alert rule's watch, shared by every replica. KEYS[1] its latest
 * matches (a list, newest first, at most the threshold), KEYS[2] its state
 * (a hash: start, the first replica's start; fired, the id of the alert that
 * fired, or "pending" until it is known).
 *
 * FLATLINE_MATCH, ARGV: time, threshold, window (ms). Returns the id of the
 * alert this match resolves, or -1.
 */
export const FLATLINE_MATCH = `#!lua
local time = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local within = tonumber(ARGV[3])
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, threshold - 1)
redis.call('PEXPIRE', KEYS[1], within)
local fired = redis.call('HGET', KEYS[2], 'fired')
if not fired or fired == 'pending' then return -1 end
local count = 0
for _, match in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if tonumber(match) > time - within then count = count + 1 end
end
if count < threshold then return -1 end
redis.call('HDEL', KEYS[2], 'fired')
return tonumber(fired)
`

/**
 * FLATLINE_LOOK, ARGV: time, threshold, window (ms), this replica's start.
 * Returns {0} when it already fired, {1, when to look again}, or {2, the
 * matches left} when it fires now: then "fired" is "pending", so no other
 * replica fires it too.
 */
export const FLATLINE_LOOK = `#!lua
local time = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local within = tonumber(ARGV[3])
redis.call('HSETNX', KEYS[2], 'start', ARGV[4])
-- Kept while any replica looks; gone after two quiet windows with none.
redis.call('PEXPIRE', KEYS[2], within * 2 + 60000)
if redis.call('HEXISTS', KEYS[2], 'fired') == 1 then return {0} end
local matches = redis.call('LRANGE', KEYS[1], 0, -1)
local oldest = tonumber(redis.call('HGET', KEYS[2], 'start'))
if #matches >= threshold then
  oldest = nil
  for _, match in ipairs(matches) do
    if oldest == nil or tonumber(match) < oldest then oldest = tonumber(match) end
  end
end
local next = oldest + within
if time < next then return {1, next} end
redis.call('HSET', KEYS[2], 'fired', 'pending')
local count = 0
for _, match in ipairs(matches) do
  if tonumber(match) > time - within then count = count + 1 end
end
return {2, count}
`
