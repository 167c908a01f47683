/**
 * The transport's Lua scripts. Each one is a single atomic step on the
 * server, which is what makes delivery crash-safe: a message is never in
 * neither place (lost) nor, through our own doing, in both.
 * Registered with ioredis `defineCommand` (EVALSHA, falling back to EVAL).
 * Header of each script: KEYS and ARGV, one per line.
 */

/**
 * Fetch up to N messages AND record each as unacked, in one step.
 * Order is kombu's: every queue's band 0 first, then band 3, …; inside a band
 * the queues take turns (the caller rotates the queue order between calls).
 * Entries that cannot even be tracked (not JSON, no properties, no
 * delivery_tag) go straight to the dead-letter list.
 * KEYS[1] unacked   KEYS[2] unacked_index   KEYS[3] dead-letter list
 * KEYS[4..] band lists, band-major: band0(q1..qn), band1(q1..qn), …
 * ARGV[1] max messages   ARGV[2] now (unix seconds, float)   ARGV[3] n queues
 * ARGV[4..3+n] queue names q1..qn
 * ARGV[4+n..] delivery tags to acknowledge first (pending acks ride along, at most 500)
 * A single queue is read with RPOP's count (Redis 6.2+, one RPOP per message
 * on an older server); the unacked records of the batch are written with one
 * ZADD and one HSET.
 * Returns a flat list of triples: q, delivery_tag, envelope      (a message)
 *                              or -q, reason, first 200 bytes     (dead-lettered)
 * where q is the queue's position in ARGV[4..] (1-based): an integer reply,
 * not the queue's name again as a string per message.
 */
export const FETCH_LUA = `
local max = tonumber(ARGV[1])
local now = ARGV[2]
local nq = tonumber(ARGV[3])
if #ARGV > 3 + nq then
  local acks = {}
  for i = 4 + nq, #ARGV do acks[#acks + 1] = ARGV[i] end
  redis.call('ZREM', KEYS[2], unpack(acks))
  redis.call('HDEL', KEYS[1], unpack(acks))
end
-- A JSON string: quoted as is when nothing in it needs escaping (the usual queue or exchange name),
-- else cjson's encoding (which also escapes '/', so both forms write the same bytes).
local function jstr(s)
  if string.find(s, '[%c/\\127]') then return cjson.encode(s) end
  return '"' .. s .. '"'
end
local function sole(raw, key)
  local s, e = string.find(raw, key, 1, true)
  if s and not string.find(raw, key, e + 1, true) then return e end
  return nil
end
local nbands = (#KEYS - 3) / nq
local out = {}
-- The unacked records of the whole fetch go in one ZADD and one HSET at the end: a redis.call
-- per message costs more than the write it makes.
local scores = {}
local entries = {}
-- What was popped for delivery (its band key, its entry), to push it back if the script fails.
local fromKeys = {}
local popped = {}
local failure = nil
local taken = 0
local function take(q, key, raw)
  taken = taken + 1
  local queue = ARGV[3 + q]
  local reason = nil
  local tag = nil
  local exchange = ''
  local rk = queue
  -- Fast path: the tag and routing of a well-formed envelope, found without decoding it.
  -- "properties", "delivery_tag" and "delivery_info" must each occur exactly once (a key of
  -- that name nested in the headers makes it ambiguous), the two after "properties", and
  -- their values must be plain strings (no backslash: an escaped character such as a
  -- Python-written \\u00e9 must be decoded); anything else takes the full decode.
  local fast = false
  if string.byte(raw, 1) == 123 then
    local p = sole(raw, '"properties":')
    local e = p and sole(raw, '"delivery_tag":')
    local d = e and sole(raw, '"delivery_info":')
    if d and e > p and d > p then
      local t = string.match(raw, '^ ?"([^"\\\\]+)"', e + 1)
      local ex, r = string.match(raw, '^ ?{"exchange": ?"([^"\\\\]*)", ?"routing_key": ?"([^"\\\\]*)"}', d + 1)
      if t and ex then
        tag, exchange, rk, fast = t, ex, r, true
      end
    end
  end
  if not fast then
    local ok, env = pcall(cjson.decode, raw)
    if not ok or type(env) ~= 'table' then
      reason = 'not JSON: the entry is not a kombu envelope'
    elseif type(env['properties']) ~= 'table' then
      reason = 'properties missing: not a kombu envelope'
    else
      local props = env['properties']
      tag = props['delivery_tag']
      if type(tag) ~= 'string' or tag == '' then
        reason = 'properties.delivery_tag missing: the delivery cannot be tracked'
      elseif type(props['delivery_info']) == 'table' then
        local info = props['delivery_info']
        if type(info['exchange']) == 'string' then exchange = info['exchange'] end
        if type(info['routing_key']) == 'string' then rk = info['routing_key'] end
      end
    end
  end
  local n = #out
  if reason then
    redis.call('LPUSH', KEYS[3], cjson.encode({queue = queue, reason = reason, dead_lettered_at = tonumber(now), message = raw}))
    out[n + 1] = -q
    out[n + 2] = reason
    out[n + 3] = string.sub(raw, 1, 200)
  else
    local m = #scores
    scores[m + 1] = now
    scores[m + 2] = tag
    entries[m + 1] = tag
    entries[m + 2] = '[' .. raw .. ',' .. jstr(exchange) .. ',' .. jstr(rk) .. ']'
    fromKeys[#fromKeys + 1] = key
    popped[#popped + 1] = raw
    out[n + 1] = q
    out[n + 2] = tag
    out[n + 3] = raw
  end
end
-- An error reply of redis.pcall (a Lua table with an err field; a popped list is a table without one).
local function isError(r)
  return type(r) == 'table' and r['err'] ~= nil
end
-- One message per queue in turn, until a round takes nothing (or a pop fails: failure is set).
local function turns(b)
  local progress = true
  while progress and taken < max do
    progress = false
    for q = 1, nq do
      if taken >= max then break end
      local key = KEYS[3 + b * nq + q]
      local raw = redis.pcall('RPOP', key)
      if isError(raw) then
        failure = raw
        return
      end
      if raw then
        progress = true
        take(q, key, raw)
      end
    end
  end
end
for b = 0, nbands - 1 do
  if taken >= max or failure then break end
  if nq == 1 then
    -- A single queue has no turns to take: all of the band's share in one RPOP with a count
    -- (Redis 6.2+; an older server refuses the count, and gets one RPOP per message).
    local key = KEYS[4 + b]
    local got = redis.pcall('RPOP', key, max - taken)
    if isError(got) then
      if string.find(got['err'], 'wrong number of arguments', 1, true) then turns(b) else failure = got end
    elseif got then
      for i = 1, #got do take(1, key, got[i]) end
    end
  else
    turns(b)
  end
end
-- All or nothing: a script that fails half-way is not rolled back by Redis, so what it popped for
-- delivery goes back to the consumer end of its list, in its order, and the error is returned
-- (a band key that is not a list, unacked keys of the wrong type). Dead-lettered entries stay there.
local function undo(err)
  for i = #popped, 1, -1 do redis.call('RPUSH', fromKeys[i], popped[i]) end
  return err
end
if failure then return undo(failure) end
if #scores > 0 then
  local r = redis.pcall('ZADD', KEYS[2], unpack(scores))
  if isError(r) then return undo(r) end
  r = redis.pcall('HSET', KEYS[1], unpack(entries))
  if isError(r) then
    local tags = {}
    for i = 2, #scores, 2 do tags[#tags + 1] = scores[i] end
    redis.call('ZREM', KEYS[2], unpack(tags))
    return undo(r)
  end
end
return out
`;

/**
 * Acknowledge deliveries: forget them in unacked_index and unacked, in one
 * step (one command on the wire, where a MULTI is four).
 * KEYS[1] unacked_index   KEYS[2] unacked   ARGV delivery tags (at most 500)
 * Returns how many were still unacked.
 */
export const ACK_LUA = `
redis.call('ZREM', KEYS[1], unpack(ARGV))
return redis.call('HDEL', KEYS[2], unpack(ARGV))
`;

/**
 * Give a delivery back (reject with requeue, warm shutdown): only if it is
 * still ours (still in unacked), remove it and push the redelivered envelope
 * to the consumer end of its list, so it is consumed next (kombu's RPUSH).
 * KEYS[1] unacked   KEYS[2] unacked_index   KEYS[3] band list
 * ARGV[1] delivery_tag   ARGV[2] envelope (redelivered)   ARGV[3] wake channel
 * Returns 1 when requeued, 0 when it was no longer unacked.
 */
export const REQUEUE_LUA = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('PUBLISH', ARGV[3], '')
return 1
`;

/**
 * Restore one timed-out delivery (visibility timeout), compare-and-move: only
 * if the unacked entry is still exactly what the caller read (sha1) and its
 * index score is still older than the cutoff (a live consumer's heartbeat
 * moves it forward).
 * KEYS[1] unacked   KEYS[2] unacked_index   KEYS[3..] band lists to push to
 * ARGV[1] delivery_tag   ARGV[2] sha1 of the entry read   ARGV[3] cutoff score
 * ARGV[4] envelope (redelivered)   ARGV[5..] wake channels
 * Returns 1 when restored, 0 when the entry changed or was refreshed.
 */
export const RESTORE_LUA = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or redis.sha1hex(cur) ~= ARGV[2] then return 0 end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if score and tonumber(score) > tonumber(ARGV[3]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
for i = 3, #KEYS do redis.call('RPUSH', KEYS[i], ARGV[4]) end
for i = 5, #ARGV do redis.call('PUBLISH', ARGV[i], '') end
return 1
`;

/**
 * Dead-letter a delivery still recorded as unacked (reject without requeue,
 * or an envelope that failed to decode): remove it and keep it, with the reason.
 * KEYS[1] unacked   KEYS[2] unacked_index   KEYS[3] dead-letter list
 * ARGV[1] delivery_tag   ARGV[2] dead-letter record (JSON)
 * Returns 1 when moved, 0 when it was no longer unacked.
 */
export const DEAD_LETTER_LUA = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('LPUSH', KEYS[3], ARGV[2])
return 1
`;

/**
 * Release kombu's unacked_mutex only if we still hold it (compare-and-delete).
 * KEYS[1] unacked_mutex   ARGV[1] our token
 */
export const RELEASE_MUTEX_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Store task results, each unless a SUCCESS is already stored under its key
 * (Celery's rule), and publish each on its key's channel, in one step
 * (Celery: GET, then MULTI SETEX + PUBLISH, per result). Every result of one
 * event-loop turn goes in one call, and their current values are read with
 * one MGET: a script run per result, or a redis.call per read, cost more in
 * Redis than the writes themselves.
 * KEYS[i] celery-task-meta-<id>
 * ARGV[1] expiry seconds (0 = no expiry)   ARGV[i + 1] meta JSON of KEYS[i]
 * Returns per key 1 when stored, 0 when an existing SUCCESS was kept.
 */
export const STORE_RESULTS_LUA = `
local ttl = tonumber(ARGV[1])
local out = {}
local stored = redis.call('MGET', unpack(KEYS))
local written = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local meta = ARGV[i + 1]
  local keep = false
  -- A key stored earlier in this same call: its new value, not the one MGET read.
  local cur = written[key] or stored[i]
  if cur then
    local ok, old = pcall(cjson.decode, cur)
    keep = ok and type(old) == 'table' and old['status'] == 'SUCCESS'
  end
  if keep then
    out[i] = 0
  else
    if ttl and ttl > 0 then
      redis.call('SETEX', key, ttl, meta)
    else
      redis.call('SET', key, meta)
    end
    redis.call('PUBLISH', key, meta)
    written[key] = meta
    out[i] = 1
  end
end
return out
`;
