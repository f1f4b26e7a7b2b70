-- The Redis limiter's one script per request (loaded by redis_limiter.py): it reads every
-- counter the request touches, decides, and only if every limit holds stores what it spent,
-- atomically. The decision is gcra.py's `decide` and `gcra` (same order of the limits, same
-- arithmetic, same names), written with locals instead of tables: the script runs once per
-- request inside redis-server, where its tables, its strings and their conversions to numbers
-- cost more than its arithmetic (docs/performance.md, "Redis limits").
-- tests/gateway/test_limits_conformance.py runs one table of cases through both.
--
-- KEYS: app TAT, developer TAT, bandwidth day, quota buckets (newest first).
-- ARGV[1]: ten integers, each 8 bytes little-endian (one `struct.unpack`, no text to convert):
--       app interval µs, app tolerance µs, developer interval µs, developer tolerance µs
--       (interval 0: no rate), quota (-1: none), bandwidth (-1: none), bandwidth TTL s,
--       then what changes from request to request: quota bucket TTL s, bytes sent since last
--       time, now µs (-1: Redis' own clock).
-- Returns: refused (0 none, 1 app, 2 developer, 3 quota, 4 bandwidth), wait µs, app left,
--          app reset µs, developer left, developer reset µs, quota used, bandwidth used.
-- Numbers handed to redis.call are written by Redis as %.17g: exact digits for whole numbers
-- below 2^53 (TATs in µs are about 1.8e15). Stored counters are read with `+ 0`: Lua 5.1's
-- `tonumber` converts a string twice.

local ADMITTED, APP_RATE, DEVELOPER_RATE, QUOTA, BANDWIDTH = 0, 1, 2, 3, 4
local refused, wait = ADMITTED, 0

-- One rate: the new TAT (the old one if refused), units left, µs to whole again or to wait.
local function gcra(limit, tat, now, interval, tolerance)
  local base = math.max(tat, now)
  local ahead = base + interval - now
  if ahead <= tolerance then
    return base + interval, math.floor((tolerance - ahead) / interval), ahead
  end
  if refused == ADMITTED then
    refused, wait = limit, ahead - tolerance
  end
  return base, 0, ahead - tolerance
end

local app_interval, app_tolerance, developer_interval, developer_tolerance, quota, bandwidth,
  bandwidth_ttl, quota_ttl, sent, now = struct.unpack('<i8i8i8i8i8i8i8i8i8i8', ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = t[1] * 1000000 + t[2]
end

-- The quota is named before the bandwidth, both before the rates (4.4), the application's own
-- rate before the developer-wide one (3.3 g).
local quota_used, today = 0, 0
if quota >= 0 then
  today = (redis.call('GET', KEYS[4]) or 0) + 0
  quota_used = today
  for i = 5, #KEYS do
    quota_used = quota_used + (redis.call('GET', KEYS[i]) or 0)
  end
  if quota_used >= quota then refused = QUOTA end
end
local bandwidth_used = 0
if sent > 0 then
  bandwidth_used = redis.call('INCRBY', KEYS[3], sent)
  -- A new day's key; one that exists already has its TTL.
  if bandwidth_used == sent then redis.call('EXPIRE', KEYS[3], bandwidth_ttl) end
elseif bandwidth >= 0 then
  bandwidth_used = (redis.call('GET', KEYS[3]) or 0) + 0
end
if bandwidth >= 0 and bandwidth_used >= bandwidth and refused == ADMITTED then
  refused = BANDWIDTH
end
local app_tat, app_left, app_reset = 0, 0, 0
if app_interval > 0 then
  app_tat, app_left, app_reset = gcra(APP_RATE, (redis.call('GET', KEYS[1]) or 0) + 0,
    now, app_interval, app_tolerance)
end
local developer_tat, developer_left, developer_reset = 0, 0, 0
if developer_interval > 0 then
  developer_tat, developer_left, developer_reset = gcra(DEVELOPER_RATE,
    (redis.call('GET', KEYS[2]) or 0) + 0, now, developer_interval, developer_tolerance)
end

-- Admitted: store the new TATs and the unit of quota.
if refused == ADMITTED then
  if developer_interval > 0 then
    redis.call('SET', KEYS[2], developer_tat,
      'PX', math.ceil(developer_reset / 1000) + 1000)
  end
  if app_interval > 0 then
    redis.call('SET', KEYS[1], app_tat,
      'PX', math.ceil(app_reset / 1000) + 1000)
  end
  if quota >= 0 then
    quota_used = quota_used + 1
    redis.call('SET', KEYS[4], today + 1, 'EX', quota_ttl)
  end
end
return {refused, wait, app_left, app_reset, developer_left, developer_reset, quota_used,
        bandwidth_used}
