-- Count and sample one facet query inside Redis.
-- ARGV: namespace, query hash, unique ('master' or ''), limit, generator seed, 'seeded' or '', ttl seconds,
--       then per facet: name, number of values, values...
-- Returns {releases, videos, {youtube id, title, release id, ...}}.
local ns, qhash, unique = ARGV[1], ARGV[2], ARGV[3]
local limit, state, seeded, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6] == 'seeded', tonumber(ARGV[7])
local function key(...) return ns .. ':' .. table.concat({...}, ':') end
local CHUNK = 4000
-- Up to MAX_SPLIT ORed values stay separate sets; an AND query expands to at most MAX_COMBOS intersections.
local MAX_SPLIT, MAX_COMBOS = 4, 32

local facets, i = {}, 8
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
  redis.call('UNLINK', dest)
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
  redis.call('UNLINK', unpack(parts))
  return temp(dest)
end

-- A result is a union of stored sets; it is materialized only when needed, since copying big sets is the cost.
local function one_key(keys, dest)
  if #keys == 1 then return keys[1] end
  return union_into(dest, keys)
end

-- |union of keys| by inclusion-exclusion over SINTERCARD (nothing copied), for up to MAX_SPLIT keys.
local function union_card(keys)
  local total = 0
  for mask = 1, 2 ^ #keys - 1 do
    local sub = {}
    for j = 1, #keys do
      if math.floor(mask / 2 ^ (j - 1)) % 2 == 1 then sub[#sub + 1] = keys[j] end
    end
    local c = #sub == 1 and redis.call('SCARD', sub[1]) or redis.call('SINTERCARD', #sub, unpack(sub))
    total = total + (#sub % 2 == 1 and c or -c)
  end
  return total
end

local function value_keys(kind, f, values)
  local keys = {}
  for j, v in ipairs(values) do keys[j] = key(kind, f, v) end
  return keys
end

-- Releases matching an AND query: (a or b) and c = (a and c) or (b and c), so big ORed sets are never copied.
local function and_into(dest)
  local combos = {{}}
  for _, fv in ipairs(facets) do
    local grown = {}
    for _, combo in ipairs(combos) do
      for _, v in ipairs(fv[2]) do
        local c = {unpack(combo)}
        c[#c + 1] = key('r', fv[1], v)
        grown[#grown + 1] = c
      end
    end
    combos = grown
  end
  if #combos > MAX_COMBOS then
    local keys = {}
    for j, fv in ipairs(facets) do keys[j] = one_key(value_keys('r', fv[1], fv[2]), tmp .. ':r:' .. fv[1]) end
    combos = {keys}
  end
  if #combos == 1 then
    redis.call('SINTERSTORE', dest, unpack(combos[1]))
    return temp(dest)
  end
  local parts = {}
  for j, combo in ipairs(combos) do
    parts[j] = dest .. ':c' .. j
    redis.call('SINTERSTORE', parts[j], unpack(combo))
  end
  redis.call('SUNIONSTORE', dest, unpack(parts))
  redis.call('UNLINK', unpack(parts))
  return temp(dest)
end

local function split(joined)
  local out = {}
  for part in string.gmatch(joined, '[^%z]+') do out[#out + 1] = part end
  return out
end

local cache = key('q', gen, qhash)
local hit = redis.call('HMGET', cache, 'r', 'v', 'rk', 'vk')
local releases, videos, rkeys, vkeys
if hit[1] then
  releases, videos, rkeys, vkeys = tonumber(hit[1]), tonumber(hit[2]), split(hit[3]), split(hit[4])
else
  if #facets == 0 then
    rkeys, vkeys = {key('all', 'r')}, {key('all', 'v')}
  elseif #facets == 1 then
    -- One facet: its per-value video sets are exact, no release-to-video step needed.
    local f, values = facets[1][1], facets[1][2]
    rkeys, vkeys = value_keys('r', f, values), value_keys('v', f, values)
    if #values > MAX_SPLIT then
      rkeys, vkeys = {one_key(rkeys, tmp .. ':r')}, {one_key(vkeys, tmp .. ':v')}
    end
  else
    -- AND across facets on release sets, then the exact video set of the matching releases.
    rkeys = {and_into(tmp .. ':r')}
    local vk = {}
    for j, rid in ipairs(redis.call('SMEMBERS', rkeys[1])) do vk[j] = key('rv', rid) end
    vkeys = {union_into(tmp .. ':v', vk)}
  end
  if unique == 'master' then
    -- Each master counts once (a release without one counts as itself) and adds its own videos.
    rkeys = {one_key(rkeys, tmp .. ':r')}
    local rows = redis.call('SORT', rkeys[1], 'BY', 'nosort', 'GET', key('doc', '*->m'))
    local seen, vk = {}, {one_key(vkeys, tmp .. ':v')}
    releases = 0
    for _, m in ipairs(rows) do
      if not m then
        releases = releases + 1
      elseif not seen[m] then
        seen[m] = true
        releases = releases + 1
        vk[#vk + 1] = key('mv', m)
      end
    end
    vkeys = {union_into(tmp .. ':mv', vk)}
  else
    releases = union_card(rkeys)
  end
  videos = union_card(vkeys)
  if #facets > 1 or #facets == 1 and #facets[1][2] > 1 or unique == 'master' then
    redis.call('HSET', cache, 'r', releases, 'v', videos,
      'rk', table.concat(rkeys, '\0'), 'vk', table.concat(vkeys, '\0'))
    redis.call('EXPIRE', cache, ttl)
  end
end

-- Park-Miller generator (exact in doubles): a query seed gives the same draws every time.
local function rand_int(n)
  state = (state * 48271) % 2147483647
  return math.floor(state / 2147483647 * n) + 1
end
local function numeric(list)
  table.sort(list, function(a, b) return tonumber(a) < tonumber(b) end)
  return list
end
-- Which members of batch are in the union of keys.
local function in_union(keys, batch)
  local flags = {}
  for _, k in ipairs(keys) do
    local found = redis.call('SMISMEMBER', k, unpack(batch))
    for j = 1, #batch do
      if found[j] == 1 then flags[j] = true end
    end
  end
  return flags
end

local picked = {}
local want = math.min(limit, videos)
local top = tonumber(redis.call('GET', key('vseq')) or '0')
if want > 0 and videos * 50 >= top and (seeded or #vkeys > 1) then
  -- Dense result: draw video numbers and keep those in the result (acceptance >= 1/50), nothing copied.
  local taken, rounds = {}, 0
  while #picked < want and rounds < 4000 do
    rounds = rounds + 1
    local batch = {}
    for j = 1, 256 do batch[j] = tostring(rand_int(top)) end
    local flags = in_union(vkeys, batch)
    for j = 1, 256 do
      if flags[j] and not taken[batch[j]] and #picked < want then
        taken[batch[j]] = true
        picked[#picked + 1] = batch[j]
      end
    end
  end
elseif want > 0 then
  -- Small or sparse result: cheap to materialize.
  local vkey = one_key(vkeys, tmp .. ':v')
  if not seeded then
    picked = redis.call('SRANDMEMBER', vkey, want)
  else
    local members = numeric(redis.call('SMEMBERS', vkey))
    for j = 1, want do
      local r = j - 1 + rand_int(#members - j + 1)
      members[j], members[r] = members[r], members[j]
      picked[j] = members[j]
    end
  end
end

local function matches(rid)
  for _, k in ipairs(rkeys) do
    if redis.call('SISMEMBER', k, rid) == 1 then return true end
  end
  return false
end
-- The lowest matching release id that has the video (itself, or through its master).
local function release_of(v)
  for _, rid in ipairs(numeric(redis.call('SMEMBERS', key('vr', v)))) do
    if matches(rid) then return rid end
  end
  for _, m in ipairs(numeric(redis.call('SMEMBERS', key('vm', v)))) do
    for _, rid in ipairs(numeric(redis.call('SMEMBERS', key('mr', m)))) do
      if matches(rid) then return rid end
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
