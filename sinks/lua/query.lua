-- Count and sample one facet query inside Redis.
-- ARGV: namespace, query hash, unique ('master' or ''), limit, seed state ('' = unseeded), ttl seconds,
--       then per facet: name, number of values, values...
-- Returns {releases, videos, {youtube id, title, release id, ...}}.
local ns, qhash, unique = ARGV[1], ARGV[2], ARGV[3]
local limit, seed, ttl = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local function key(...) return ns .. ':' .. table.concat({...}, ':') end
local CHUNK = 4000

local facets, i = {}, 7
while i <= #ARGV do
  local n = tonumber(ARGV[i + 1])
  local values = {}
  for j = 1, n do values[j] = ARGV[i + 1 + j] end
  facets[#facets + 1] = {ARGV[i], values}
  i = i + 2 + n
end

local gen = redis.call('GET', key('gen')) or '0'
local tmp = key('tmp', gen, qhash)
local function temp(dest) redis.call('EXPIRE', dest, ttl + 5) return dest end

-- Union of many keys into dest in C, in chunks whose partial results are unioned at the end.
local function union_into(dest, keys)
  redis.call('DEL', dest)
  if #keys <= CHUNK then
    if #keys > 0 then redis.call('SUNIONSTORE', dest, unpack(keys)) end
    return temp(dest)
  end
  local parts = {}
  for s = 1, #keys, CHUNK do
    local part = dest .. ':p' .. (#parts + 1)
    redis.call('SUNIONSTORE', part, unpack(keys, s, math.min(s + CHUNK - 1, #keys)))
    parts[#parts + 1] = part
  end
  redis.call('SUNIONSTORE', dest, unpack(parts))
  redis.call('DEL', unpack(parts))
  return temp(dest)
end

local function facet_key(kind, f, values)
  if #values == 1 then return key(kind, f, values[1]) end
  local keys = {}
  for j, v in ipairs(values) do keys[j] = key(kind, f, v) end
  return union_into(tmp .. ':' .. kind .. ':' .. f, keys)
end

local cache = key('q', gen, qhash)
local hit = redis.call('HMGET', cache, 'r', 'v', 'rk', 'vk')
local releases, videos, rkey, vkey
if hit[1] then
  releases, videos, rkey, vkey = tonumber(hit[1]), tonumber(hit[2]), hit[3], hit[4]
else
  if #facets == 0 then
    rkey, vkey = key('all', 'r'), key('all', 'v')
  elseif #facets == 1 then
    rkey, vkey = facet_key('r', facets[1][1], facets[1][2]), facet_key('v', facets[1][1], facets[1][2])
  else
    -- AND across facets on release sets, then the exact video set of the matching releases.
    local rkeys = {}
    for j, fv in ipairs(facets) do rkeys[j] = facet_key('r', fv[1], fv[2]) end
    rkey = tmp .. ':r'
    redis.call('SINTERSTORE', rkey, unpack(rkeys))
    temp(rkey)
    local vkeys = {}
    for j, rid in ipairs(redis.call('SMEMBERS', rkey)) do vkeys[j] = key('rv', rid) end
    vkey = union_into(tmp .. ':v', vkeys)
  end
  releases = redis.call('SCARD', rkey)
  if unique == 'master' then
    -- Each master counts once (a release without one counts as itself) and adds its own videos.
    local rows = redis.call('SORT', rkey, 'BY', 'nosort', 'GET', key('doc', '*->m'))
    local seen, vkeys = {}, {vkey}
    releases = 0
    for _, m in ipairs(rows) do
      if not m then
        releases = releases + 1
      elseif not seen[m] then
        seen[m] = true
        releases = releases + 1
        vkeys[#vkeys + 1] = key('mv', m)
      end
    end
    vkey = union_into(tmp .. ':mv', vkeys)
  end
  videos = redis.call('SCARD', vkey)
  if #facets > 1 or #facets == 1 and #facets[1][2] > 1 or unique == 'master' then
    redis.call('HSET', cache, 'r', releases, 'v', videos, 'rk', rkey, 'vk', vkey)
    redis.call('EXPIRE', cache, ttl)
  end
end

-- Seeded sampling: Park-Miller generator (exact in doubles), so the same seed draws the same videos.
local state = tonumber(seed ~= '' and seed or '1')
local function rand_int(n)
  state = (state * 48271) % 2147483647
  return math.floor(state / 2147483647 * n) + 1
end

local picked = {}
local want = math.min(limit, videos)
if want > 0 and seed == '' then
  picked = redis.call('SRANDMEMBER', vkey, want)
elseif want > 0 then
  local top = tonumber(redis.call('GET', key('vseq')) or '0')
  if videos <= 5000 or videos * 200 < top then
    -- Small or sparse: partial Fisher-Yates over the numerically sorted members.
    local members = redis.call('SMEMBERS', vkey)
    table.sort(members, function(a, b) return tonumber(a) < tonumber(b) end)
    for j = 1, want do
      local r = j - 1 + rand_int(#members - j + 1)
      members[j], members[r] = members[r], members[j]
      picked[j] = members[j]
    end
  else
    -- Dense: draw video numbers and keep those in the set (acceptance >= 1/200).
    local taken = {}
    while #picked < want do
      local batch = {}
      for j = 1, 256 do batch[j] = tostring(rand_int(top)) end
      local found = redis.call('SMISMEMBER', vkey, unpack(batch))
      for j = 1, 256 do
        if found[j] == 1 and not taken[batch[j]] and #picked < want then
          taken[batch[j]] = true
          picked[#picked + 1] = batch[j]
        end
      end
    end
  end
end

local function numeric(list)
  table.sort(list, function(a, b) return tonumber(a) < tonumber(b) end)
  return list
end
-- The lowest matching release id that has the video (itself, or through its master).
local function release_of(v)
  for _, rid in ipairs(numeric(redis.call('SMEMBERS', key('vr', v)))) do
    if redis.call('SISMEMBER', rkey, rid) == 1 then return rid end
  end
  for _, m in ipairs(numeric(redis.call('SMEMBERS', key('vm', v)))) do
    for _, rid in ipairs(numeric(redis.call('SMEMBERS', key('mr', m)))) do
      if redis.call('SISMEMBER', rkey, rid) == 1 then return rid end
    end
  end
  return '0'
end

local sample = {}
for _, v in ipairs(picked) do
  local meta = redis.call('HGET', key('video'), v) or ''
  local tab = string.find(meta, '\t', 1, true) or (#meta + 1)
  sample[#sample + 1] = string.sub(meta, 1, tab - 1)
  sample[#sample + 1] = string.sub(meta, tab + 1)
  sample[#sample + 1] = release_of(v)
end
return {releases, videos, sample}
