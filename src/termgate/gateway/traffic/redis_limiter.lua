-- The Redis limiter's script (loaded by redis_limiter.py): for each decision it carries, in
-- order, it reads every counter the request touches, decides, and only if every limit holds
-- stores what it spent. One call carries the decisions of one event-loop turn of a node; the
-- whole call is atomic, and a decision sees what the ones before it in the call stored. The
-- decision is gcra.py's `decide` and `gcra` (same order of the limits, same arithmetic, same
-- names), written with locals instead of tables: the script runs inside redis-server, where its
-- tables, its strings and their conversions to numbers cost more than its arithmetic
-- (docs/performance.md, "Redis limits"). tests/gateway/test_limits_conformance.py runs one
-- table of cases through both.
--
-- KEYS: per application of the call (once however many of its decisions the call carries):
--       app TAT, developer TAT, bandwidth day, quota buckets (newest first).
-- ARGV[1]: per decision, twelve integers, each 8 bytes little-endian (one `struct.unpack`, no
--       text to convert): its number of KEYS, app interval µs, app tolerance µs, developer
--       interval µs, developer tolerance µs (interval 0: no rate), quota (-1: none), bandwidth
--       (-1: none), bandwidth TTL s, then what changes from request to request: quota bucket
--       TTL s, bytes sent since last time, now µs (-1: Redis' own clock), and where its KEYS
--       start (0: at KEYS[1]).
-- Returns: one string, per decision in order eight integers of 8 bytes little-endian (one
--          `struct.unpack` again, no reply array for Redis to write and the client to read):
--          refused (0 none, 1 app, 2 developer, 3 quota, 4 bandwidth), wait µs, app left,
--          app reset µs, developer left, developer reset µs, quota used, bandwidth used.
-- Numbers handed to redis.call are written by Redis as %.17g: exact digits for whole numbers
-- below 2^53 (TATs in µs are about 1.8e15). Stored counters are read with `+ 0`: Lua 5.1's
-- `tonumber` converts a string twice.

local ADMITTED, APP_RATE, DEVELOPER_RATE, QUOTA, BANDWIDTH = 0, 1, 2, 3, 4
-- Library functions as locals: a global is a table look-up each time it is named.
local call, floor, ceil, max = redis.call, math.floor, math.ceil, math.max
local pack, unpack = struct.pack, struct.unpack
local refused, wait = ADMITTED, 0

local args = ARGV[1]
-- Bytes per decision in ARGV[1]: a call of one decision has nothing to share between decisions.
local DECISION = 96

-- The counters a call of several decisions has read or set, by key: a later decision on the
-- same key (the same application, developer or day in one call) reads its value here, and each
-- key is written to Redis once, at the end, with its last value and expiry: the same state as
-- after one call per decision, for fewer `redis.call`s. A call of one decision reads and writes
-- Redis directly (the tables would cost more than they save).
local read, store, add, written, unit, value, ttl, added

if #args == DECISION then
  read = function(key)
    return (call('GET', key) or 0) + 0
  end
  store = function(key, number, expiry_unit, expiry)
    call('SET', key, number, expiry_unit, expiry)
  end
  add = function(key, sent, expiry)
    local total = call('INCRBY', key, sent)
    -- A new day's key; one that exists already has its TTL.
    if total == sent then call('EXPIRE', key, expiry) end
    return total
  end
else
  value, unit, ttl, written, added = {}, {}, {}, {}, {}
  read = function(key)
    local found = value[key]
    if found == nil then
      found = (call('GET', key) or 0) + 0
      value[key] = found
    end
    return found
  end
  store = function(key, number, expiry_unit, expiry)
    if unit[key] == nil then written[#written + 1] = key end
    value[key], unit[key], ttl[key] = number, expiry_unit, expiry
  end
  add = function(key, sent, expiry)
    local total = value[key]
    if total == nil then
      total = call('INCRBY', key, sent)
      if total == sent then call('EXPIRE', key, expiry) end
    else
      -- Added by one INCRBY at the end (the first one gave the key its TTL).
      total = total + sent
      added[key] = (added[key] or 0) + sent
      if unit[key] == nil then
        written[#written + 1] = key
        unit[key], ttl[key] = false, expiry
      end
    end
    value[key] = total
    return total
  end
end

-- One rate: the new TAT (the old one if refused), units left, µs to whole again or to wait.
local function gcra(limit, tat, now, interval, tolerance)
  local base = max(tat, now)
  local ahead = base + interval - now
  if ahead <= tolerance then
    return base + interval, floor((tolerance - ahead) / interval), ahead
  end
  if refused == ADMITTED then
    refused, wait = limit, ahead - tolerance
  end
  return base, 0, ahead - tolerance
end

-- One decision over KEYS[k + 1] .. KEYS[last].
local function decide(k, last, app_interval, app_tolerance, developer_interval,
                      developer_tolerance, quota, bandwidth, bandwidth_ttl, quota_ttl, sent, now)
  refused, wait = ADMITTED, 0
  -- The quota is named before the bandwidth, both before the rates (4.4), the application's
  -- own rate before the developer-wide one (3.3 g).
  local quota_used, today = 0, 0
  if quota >= 0 then
    today = read(KEYS[k + 4])
    quota_used = today
    for i = k + 5, last do
      quota_used = quota_used + read(KEYS[i])
    end
    if quota_used >= quota then refused = QUOTA end
  end
  local bandwidth_used = 0
  if sent > 0 then
    bandwidth_used = add(KEYS[k + 3], sent, bandwidth_ttl)
  elseif bandwidth >= 0 then
    bandwidth_used = read(KEYS[k + 3])
  end
  if bandwidth >= 0 and bandwidth_used >= bandwidth and refused == ADMITTED then
    refused = BANDWIDTH
  end
  local app_tat, app_left, app_reset = 0, 0, 0
  if app_interval > 0 then
    app_tat, app_left, app_reset = gcra(APP_RATE, read(KEYS[k + 1]), now, app_interval,
      app_tolerance)
  end
  local developer_tat, developer_left, developer_reset = 0, 0, 0
  if developer_interval > 0 then
    developer_tat, developer_left, developer_reset = gcra(DEVELOPER_RATE, read(KEYS[k + 2]),
      now, developer_interval, developer_tolerance)
  end

  -- Admitted: the new TATs and the unit of quota.
  if refused == ADMITTED then
    if developer_interval > 0 then
      store(KEYS[k + 2], developer_tat, 'PX', ceil(developer_reset / 1000) + 1000)
    end
    if app_interval > 0 then
      store(KEYS[k + 1], app_tat, 'PX', ceil(app_reset / 1000) + 1000)
    end
    if quota >= 0 then
      quota_used = quota_used + 1
      store(KEYS[k + 4], today + 1, 'EX', quota_ttl)
    end
  end
  return refused, wait, app_left, app_reset, developer_left, developer_reset, quota_used,
    bandwidth_used
end

local answers, position, clock = {}, 1, -1
while position < #args do
  local keys, app_interval, app_tolerance, developer_interval, developer_tolerance, quota,
    bandwidth, bandwidth_ttl, quota_ttl, sent, now, k
  keys, app_interval, app_tolerance, developer_interval, developer_tolerance, quota, bandwidth,
    bandwidth_ttl, quota_ttl, sent, now, k, position =
      unpack('<i8i8i8i8i8i8i8i8i8i8i8i8', args, position)
  if now < 0 then
    if clock < 0 then
      local t = call('TIME')
      clock = t[1] * 1000000 + t[2]
    end
    now = clock
  end
  answers[#answers + 1] = pack('<i8i8i8i8i8i8i8i8', decide(k, k + keys, app_interval,
    app_tolerance, developer_interval, developer_tolerance, quota, bandwidth, bandwidth_ttl,
    quota_ttl, sent, now))
end

-- A call of several decisions: each key written once, in the order first written.
for i = 1, written and #written or 0 do
  local key = written[i]
  if unit[key] then
    call('SET', key, value[key], unit[key], ttl[key])
  else
    local total = added[key]
    if call('INCRBY', key, total) == total then call('EXPIRE', key, ttl[key]) end
  end
end
return table.concat(answers)
