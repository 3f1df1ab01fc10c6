/**
 * The Lua scripts of the Redis engine. Each engine operation that reads and writes several keys is one
 * script, so it is atomic: no other client sees a half-done publish, and two nodes sweeping the same expired
 * presence entry cannot both announce its leave. Times come from the Redis server's clock (`TIME`), so every
 * node agrees on them.
 * @module
 */

/** Helpers shared by the scripts (prepended to each). */
const PRELUDE = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function extendTtl(key, ms)
  if ms > 0 and redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
-- A missing meta hash means the topic's history is gone (or never was): a new epoch starts, with an empty
-- stream, since entries of the old epoch would carry offsets of another numbering.
local function ensureEpoch(meta, stream, candidate)
  local epoch = redis.call('HGET', meta, 'e')
  if epoch then return epoch end
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'e', candidate, 'o', 0)
  return candidate
end
local function offsetOf(id)
  return tonumber(string.sub(id, string.find(id, '-', 1, true) + 1))
end
`;

/**
 * Publish. KEYS: meta, stream[, idempotency]. ARGV: channel, candidate epoch, history size, history ttl ms,
 * topic ttl ms, idempotency ttl ms, meta, data.
 * Returns `{1, "offset,epoch"}` for a duplicate, else `{0, offset, epoch, time}`.
 *
 * Stream ids are `<time>-<offset>`: the time part makes XTRIM MINID trim by age (an entry `ttl` ms old is
 * gone), the sequence part is the offset, so an entry's offset needs no field of its own. The time never goes below the last one stored (a
 * server clock stepping back would otherwise make XADD refuse the id).
 */
const PUBLISH = `
local meta, stream, idem = KEYS[1], KEYS[2], KEYS[3]
if idem then
  local seen = redis.call('GET', idem)
  if seen then return {1, seen} end
end
local epoch = ensureEpoch(meta, stream, ARGV[2])
local offset = redis.call('HINCRBY', meta, 'o', 1)
local time = nowMs()
local last = tonumber(redis.call('HGET', meta, 't') or '0')
if time < last then time = last end
local size, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
if size > 0 and ttl > 0 then
  redis.call('HSET', meta, 't', time, 'h', ttl)
  redis.call('XADD', stream, 'MAXLEN', size, string.format('%d-%d', time, offset), 'm', ARGV[7], 'd', ARGV[8])
  redis.call('XTRIM', stream, 'MINID', string.format('%d', time - ttl + 1))
  redis.call('PEXPIRE', stream, ttl)
else
  -- A publish without history ends the topic's history: what is kept stays a run of consecutive offsets.
  redis.call('DEL', stream)
  redis.call('HDEL', meta, 'h')
end
extendTtl(meta, math.max(ttl, tonumber(ARGV[5])))
local header = string.format('p%d,%d,', offset, time) .. epoch .. ',' .. ARGV[7] .. '\\n'
redis.call('PUBLISH', ARGV[1], header .. ARGV[8])
if idem then redis.call('SET', idem, string.format('%d,', offset) .. epoch, 'PX', ARGV[6]) end
return {0, offset, epoch, time}
`;

/** Position. KEYS: meta, stream. ARGV: candidate epoch, topic ttl ms. Returns `{offset, epoch}`. */
const POSITION = `
local epoch = ensureEpoch(KEYS[1], KEYS[2], ARGV[1])
extendTtl(KEYS[1], tonumber(ARGV[2]))
return {redis.call('HGET', KEYS[1], 'o'), epoch}
`;

/**
 * History. KEYS: meta, stream. ARGV: candidate epoch, since offset ('' for none), since epoch, limit (-1: all).
 * Returns `{epoch, offset, complete, entries}`, entries oldest first.
 *
 * Entries older than the topic's history ttl are trimmed first, since a quiet topic has no publish to trim
 * them. After `since`, offsets `since+1 .. last` are wanted; kept offsets are consecutive, so they are all
 * there exactly when the newest `last - since` entries start at `since+1`. Otherwise the answer is
 * incomplete and carries no publications (resuming from them would leave a gap).
 */
const HISTORY = `
local meta, stream = KEYS[1], KEYS[2]
local epoch = ensureEpoch(meta, stream, ARGV[1])
local last = tonumber(redis.call('HGET', meta, 'o'))
local ttl = tonumber(redis.call('HGET', meta, 'h') or '0')
if ttl > 0 then redis.call('XTRIM', stream, 'MINID', string.format('%d', nowMs() - ttl + 1)) end
local limit = tonumber(ARGV[4])
local entries, complete, count
if ARGV[2] == '' then
  if limit == 0 then entries = {}
  elseif limit > 0 then entries = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', limit)
  else entries = redis.call('XREVRANGE', stream, '+', '-') end
  complete, count = 1, #entries
else
  local since = tonumber(ARGV[2])
  if ARGV[3] ~= epoch or since > last then return {epoch, last, 0, {}} end
  if since == last then return {epoch, last, 1, {}} end
  entries = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', last - since)
  count = #entries
  if count < last - since or offsetOf(entries[count][1]) ~= since + 1 then return {epoch, last, 0, {}} end
  complete = 1
  if limit >= 0 and count > limit then
    local oldest = {}
    for i = count - limit + 1, count do oldest[#oldest + 1] = entries[i] end
    entries, count = oldest, limit
  end
end
local out = {}
for i = count, 1, -1 do out[#out + 1] = entries[i] end
return {epoch, last, complete, out}
`;

/**
 * Presence add. KEYS: expiry zset, entries hash, presence index. ARGV: client, entry JSON, ttl ms, channel,
 * index member, key ttl ms. Announces a join only when the client was not present. Returns 1 when added.
 */
const PRESENCE_ADD = `
local expiry = nowMs() + tonumber(ARGV[3])
local added = redis.call('ZADD', KEYS[1], expiry, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], expiry, ARGV[5])
extendTtl(KEYS[1], tonumber(ARGV[6]))
extendTtl(KEYS[2], tonumber(ARGV[6]))
if added == 1 then redis.call('PUBLISH', ARGV[4], 'j' .. ARGV[2]) end
return added
`;

/**
 * Presence remove. KEYS: expiry zset, entries hash, presence index. ARGV: client, channel, index member,
 * fallback entry JSON. Announces the leave only when the client was present. Returns 1 when removed.
 */
const PRESENCE_REMOVE = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local entry = redis.call('HGET', KEYS[2], ARGV[1]) or ARGV[4]
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[3])
redis.call('PUBLISH', ARGV[2], 'l' .. entry)
return 1
`;

/**
 * Presence list. KEYS: expiry zset, entries hash, presence index. ARGV: topic, channel. Removes the topic's
 * expired entries first, announcing their leave (so a reader never waits for the sweeper to learn that a
 * client it no longer lists has left), then returns the JSON of every unexpired entry.
 */
const PRESENCE_LIST = `
local now = nowMs()
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now))
for _, client in ipairs(expired) do
  redis.call('ZREM', KEYS[1], client)
  redis.call('ZREM', KEYS[3], ARGV[1] .. '\\n' .. client)
  local entry = redis.call('HGET', KEYS[2], client)
  redis.call('HDEL', KEYS[2], client)
  if entry then redis.call('PUBLISH', ARGV[2], 'l' .. entry) end
end
local clients = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('(%d', now), '+inf')
local out = {}
-- HMGET in chunks: unpack() of a very large table would overflow Lua's stack.
for first = 1, #clients, 500 do
  local chunk = {}
  for i = first, math.min(first + 499, #clients) do chunk[#chunk + 1] = clients[i] end
  local values = redis.call('HMGET', KEYS[2], unpack(chunk))
  for _, value in ipairs(values) do if value then out[#out + 1] = value end end
end
return out
`;

/** Expired presence members. KEYS: presence index. ARGV: batch size. */
const PRESENCE_EXPIRED = `
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', nowMs()), 'LIMIT', 0, tonumber(ARGV[1]))
`;

/**
 * Sweeps one expired entry. KEYS: expiry zset, entries hash, presence index. ARGV: client, channel, index
 * member, fallback entry JSON. The ZREM of the index member decides which node announces the leave: a node
 * that finds it gone (swept by another) or refreshed announces nothing. Returns 1 when this call swept it.
 */
const PRESENCE_SWEEP_ONE = `
local now = nowMs()
local score = redis.call('ZSCORE', KEYS[3], ARGV[3])
if not score or tonumber(score) > now then return 0 end
if redis.call('ZREM', KEYS[3], ARGV[3]) == 0 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
local entry = redis.call('HGET', KEYS[2], ARGV[1]) or ARGV[4]
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], 'l' .. entry)
return 1
`;

/** The engine's scripts, with the shared prelude, by name. */
export const SCRIPTS = {
  publish: PRELUDE + PUBLISH,
  position: PRELUDE + POSITION,
  history: PRELUDE + HISTORY,
  presenceAdd: PRELUDE + PRESENCE_ADD,
  presenceRemove: PRELUDE + PRESENCE_REMOVE,
  presenceList: PRELUDE + PRESENCE_LIST,
  presenceExpired: PRELUDE + PRESENCE_EXPIRED,
  presenceSweepOne: PRELUDE + PRESENCE_SWEEP_ONE,
} as const;

/** Name of one of the engine's scripts. */
export type ScriptName = keyof typeof SCRIPTS;
