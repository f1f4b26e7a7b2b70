-- The Redis limiter's one script per request (loaded by redis_limiter.py): it reads every
-- counter the request touches, decides, and only if every limit holds stores what it spent,
-- atomically. `gcra` and `decide` are gcra.py's, line for line and with the same names;
-- tests/gateway/test_limits_conformance.py runs one table of cases through both.
--
-- KEYS: app TAT, developer TAT, bandwidth day, quota buckets (newest first).
-- ARGV: app interval µs, app tolerance µs, developer interval µs, developer tolerance µs
--       (interval 0: no rate), quota (-1: none), quota bucket TTL s, bandwidth (-1: none),
--       bandwidth TTL s, bytes sent since last time, now µs (-1: Redis' own clock).
-- Returns: refused (0 none, 1 app, 2 developer, 3 quota, 4 bandwidth), wait µs, app left,
--          app reset µs, developer left, developer reset µs, quota used, bandwidth used.

local ADMITTED, APP_RATE, DEVELOPER_RATE, QUOTA, BANDWIDTH = 0, 1, 2, 3, 4

local function gcra(verdict, limit, tat, now, interval, tolerance)
  local base = math.max(tat, now)
  local ahead = base + interval - now
  if ahead <= tolerance then
    return base + interval, math.floor((tolerance - ahead) / interval), ahead
  end
  if verdict.refused == ADMITTED then
    verdict.refused, verdict.wait = limit, ahead - tolerance
  end
  return base, 0, ahead - tolerance
end

local function decide(limits, verdict, now, app_tat, developer_tat)
  local quota = limits.quota
  if quota ~= nil and verdict.quota_used >= quota then
    verdict.refused = QUOTA
  end
  local bandwidth = limits.bandwidth
  if bandwidth ~= nil and verdict.bandwidth_used >= bandwidth and verdict.refused == ADMITTED then
    verdict.refused = BANDWIDTH
  end
  local interval = limits.app_interval
  if interval > 0 then
    verdict.app_tat, verdict.app_left, verdict.app_reset = gcra(
      verdict, APP_RATE, app_tat, now, interval, limits.app_tolerance)
  end
  interval = limits.developer_interval
  if interval > 0 then
    verdict.developer_tat, verdict.developer_left, verdict.developer_reset = gcra(
      verdict, DEVELOPER_RATE, developer_tat, now, interval, limits.developer_tolerance)
  end
  if verdict.refused == ADMITTED and quota ~= nil then
    verdict.quota_used = verdict.quota_used + 1
  end
end

-- The primitives: read the counters, decide, store.
local limits = {
  app_interval = tonumber(ARGV[1]), app_tolerance = tonumber(ARGV[2]),
  developer_interval = tonumber(ARGV[3]), developer_tolerance = tonumber(ARGV[4]),
}
if tonumber(ARGV[5]) >= 0 then limits.quota = tonumber(ARGV[5]) end
if tonumber(ARGV[7]) >= 0 then limits.bandwidth = tonumber(ARGV[7]) end
local now = tonumber(ARGV[10])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local verdict = {
  refused = ADMITTED, wait = 0, app_left = 0, app_reset = 0, app_tat = 0,
  developer_left = 0, developer_reset = 0, developer_tat = 0, quota_used = 0, bandwidth_used = 0,
}
if limits.quota ~= nil then
  for i = 4, #KEYS do
    verdict.quota_used = verdict.quota_used + tonumber(redis.call('GET', KEYS[i]) or '0')
  end
end
local sent = tonumber(ARGV[9])
if sent > 0 then
  verdict.bandwidth_used = redis.call('INCRBY', KEYS[3], sent)
  redis.call('EXPIRE', KEYS[3], ARGV[8])
elseif limits.bandwidth ~= nil then
  verdict.bandwidth_used = tonumber(redis.call('GET', KEYS[3]) or '0')
end
local app_tat, developer_tat = 0, 0
if limits.app_interval > 0 then app_tat = tonumber(redis.call('GET', KEYS[1]) or '0') end
if limits.developer_interval > 0 then
  developer_tat = tonumber(redis.call('GET', KEYS[2]) or '0')
end
decide(limits, verdict, now, app_tat, developer_tat)
if verdict.refused == ADMITTED then
  if limits.developer_interval > 0 then
    redis.call('SET', KEYS[2], string.format('%.0f', verdict.developer_tat),
      'PX', math.ceil(verdict.developer_reset / 1000) + 1000)
  end
  if limits.app_interval > 0 then
    redis.call('SET', KEYS[1], string.format('%.0f', verdict.app_tat),
      'PX', math.ceil(verdict.app_reset / 1000) + 1000)
  end
  if limits.quota ~= nil then
    redis.call('INCR', KEYS[4])
    redis.call('EXPIRE', KEYS[4], ARGV[6])
  end
end
return {verdict.refused, verdict.wait, verdict.app_left, verdict.app_reset,
        verdict.developer_left, verdict.developer_reset, verdict.quota_used,
        verdict.bandwidth_used}
