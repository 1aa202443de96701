-- How many releases each value of a facet has within a selection of the other facets, most first (ties by the
-- value's releases in the whole index, then by value). ARGV: namespace, key naming the active index version
-- ('' = use the namespace), facet, lex range of the folded prefix ('' and '' = any value), limit, candidates,
-- most prefix matches to rank, then per other facet: name, number of values, values... Returns {value, releases, ...}.
-- The candidates are the facet's values with the most releases in the whole index (with the prefix); each is
-- counted exactly: the releases a query of the selection plus that one value matches. A release is its own item
-- (kind r, rank 0), so k:r:0:{facet}:{value} holds a value's releases.
-- prelude: common, top
-- uses: fmt, key, ns, prefix_matches, ranked, set_bits
if ARGV[2] ~= '' then ns = redis.call('GET', ARGV[2]) or ns end
local facet, lo, hi = ARGV[3], ARGV[4], ARGV[5]
local limit, wanted, scan = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local BATCH = 1000  -- positions per BITFIELD_RO call, members per SMISMEMBER or SADD (Lua's unpack limit)
local LIST_MAX = 2048  -- a selection of up to this many releases is probed member by member, a bigger one ANDed in C
local TEMP_TTL = '5'  -- temporary keys are deleted before the script returns; the TTL covers one that fails

local others, i = {}, 9
while i <= #ARGV do
  local n = tonumber(ARGV[i + 1])
  others[#others + 1] = {ARGV[i], {unpack(ARGV, i + 2, i + 1 + n)}}
  i = i + 2 + n
end

local values, totals = {}, {}
if lo == '' then
  local rows = redis.call('ZREVRANGE', key('cnt', facet), 0, wanted - 1, 'WITHSCORES')
  for j = 1, #rows, 2 do values[#values + 1] = rows[j]; totals[#totals + 1] = tonumber(rows[j + 1]) end
else
  local all, counts = prefix_matches(key('lex', facet), key('cnt', facet), lo, hi, scan)
  for j, at in ipairs(ranked(all, counts, wanted)) do values[j] = all[at]; totals[j] = counts[at] end
end

-- Temporary sets and bitmaps are not data: kept out of the AOF and replicas, as the query script's are.
redis.set_repl(redis.REPL_NONE)
local temps = {}
local function temp()
  temps[#temps + 1] = key('tmp', 'counts', fmt('%d', #temps + 1))
  return temps[#temps]
end

-- The bits (0 or 1) of bitmap k at the given positions. Positions are release numbers as Redis returned them
-- (decimal strings), passed on as they are: converting each to a Lua number and back cost more than the lookups.
local function bits(k, positions)
  local out = {}
  for s = 1, #positions, BATCH do
    local args, c = {}, 0
    for j = s, math.min(s + BATCH - 1, #positions) do
      args[c + 1] = 'GET'; args[c + 2] = 'u1'; args[c + 3] = positions[j]; c = c + 3
    end
    for _, b in ipairs(redis.call('BITFIELD_RO', k, unpack(args))) do out[#out + 1] = b end
  end
  return out
end

local function bits_set(k, positions)
  local n = 0
  for _, b in ipairs(bits(k, positions)) do n = n + b end
  return n
end

-- The keys of the releases having one of a facet's values: {bms = bitmaps, sets = sets, size = members of the sets}.
local function value_keys(f, vs)
  local fk = {bms = {}, sets = {}, size = 0}
  for _, v in ipairs(vs) do
    local k = key('k', 'r', '0', f, v)
    local t = redis.call('TYPE', k).ok
    if t == 'string' then
      fk.bms[#fk.bms + 1] = k
    elseif t == 'set' then
      fk.sets[#fk.sets + 1] = k
      fk.size = fk.size + redis.call('SCARD', k)
    end
  end
  return fk
end

-- Which of the release numbers cand have one of the facet's values.
local function keep_in(cand, fk)
  local hit = {}
  for _, bm in ipairs(fk.bms) do
    for j, b in ipairs(bits(bm, cand)) do if b == 1 then hit[j] = true end end
  end
  for _, k in ipairs(fk.sets) do
    for s = 1, #cand, BATCH do
      local found = redis.call('SMISMEMBER', k, unpack(cand, s, math.min(s + BATCH - 1, #cand)))
      for j, b in ipairs(found) do if b == 1 then hit[s + j - 1] = true end end
    end
  end
  local kept = {}
  for j, n in ipairs(cand) do if hit[j] then kept[#kept + 1] = n end end
  return kept
end

-- The selection's releases: {list = numbers} or {bm = bitmap key}; false when none matches. A facet of small sets
-- only gives the candidates, the others filter them; with bitmaps in every facet, ORs and an AND run in C.
local function selection()
  local fks, seed = {}, nil
  for j, fv in ipairs(others) do
    fks[j] = value_keys(fv[1], fv[2])
    if #fks[j].bms + #fks[j].sets == 0 then return false end
    if #fks[j].bms == 0 and (not seed or fks[j].size < fks[seed].size) then seed = j end
  end
  if seed then
    local cand = redis.call('SUNION', unpack(fks[seed].sets))
    for j, fk in ipairs(fks) do
      if #cand == 0 then return false end
      if j ~= seed then cand = keep_in(cand, fk) end
    end
    if #cand == 0 then return false end
    if #cand <= LIST_MAX then return {list = cand} end
    local dest = temp()
    set_bits(dest, cand, '1')
    redis.call('EXPIRE', dest, TEMP_TTL)
    return {bm = dest}
  end
  local ors = {}
  for j, fk in ipairs(fks) do
    if #fk.bms == 1 and #fk.sets == 0 then
      ors[j] = fk.bms[1]
    else
      ors[j] = temp()
      redis.call('BITOP', 'OR', ors[j], unpack(fk.bms))
      redis.call('EXPIRE', ors[j], TEMP_TTL)
      for _, k in ipairs(fk.sets) do set_bits(ors[j], redis.call('SMEMBERS', k), '1') end
    end
  end
  if #ors == 1 then return {bm = ors[1]} end
  local dest = temp()
  redis.call('BITOP', 'AND', dest, unpack(ors))
  redis.call('EXPIRE', dest, TEMP_TTL)
  return {bm = dest}
end

-- The numbers of the releases in bitmap k (it holds `size` of them), as decimal strings.
local function members_of_bitmap(k, size)
  local out, pos = {}, redis.call('BITPOS', k, '1')
  while pos >= 0 and #out < size do
    out[#out + 1] = fmt('%d', pos)
    pos = redis.call('BITPOS', k, '1', fmt('%d', pos + 1), '-1', 'BIT')
  end
  return out
end

-- A temporary SET of the given release numbers: SINTERCARD then counts a small value's releases among them in C.
local function as_set(list)
  local k = temp()
  for s = 1, #list, BATCH do redis.call('SADD', k, unpack(list, s, math.min(s + BATCH - 1, #list))) end
  redis.call('EXPIRE', k, TEMP_TTL)
  return k
end

-- Each candidate is a bitmap or a set of releases, and so is the selection. Bitmap and bitmap: AND and BITCOUNT in
-- C. A set against a set: SINTERCARD in C. A set against a bitmap selection: either each member looked up in the
-- bitmap (Lua work per member of the candidates' sets), or the selection made a set once (Lua work per release of
-- the selection) and then SINTERCARD; whichever touches fewer numbers. A bitmap against a small selection list: its
-- members looked up in the bitmap.
local counts = totals  -- no other facet chosen: the whole index
if #others > 0 then
  local sel, scratch, members = selection(), nil, nil
  local kinds, in_sets = {}, 0
  for j, v in ipairs(values) do
    local k = key('k', 'r', '0', facet, v)
    kinds[j] = sel and redis.call('TYPE', k).ok
    if kinds[j] == 'set' then in_sets = in_sets + redis.call('SCARD', k) end
  end
  if sel and sel.list then
    if in_sets > 0 then members = as_set(sel.list) end
  elseif sel and in_sets > 0 then
    local size = redis.call('BITCOUNT', sel.bm)
    if size < in_sets then members = as_set(members_of_bitmap(sel.bm, size)) end
  end
  counts = {}
  for j, v in ipairs(values) do
    local k, t, n = key('k', 'r', '0', facet, v), kinds[j], 0
    if t == 'string' and sel.bm then
      scratch = scratch or temp()
      redis.call('BITOP', 'AND', scratch, sel.bm, k)
      redis.call('EXPIRE', scratch, TEMP_TTL)
      n = redis.call('BITCOUNT', scratch)
    elseif t == 'string' then
      n = bits_set(k, sel.list)
    elseif t == 'set' and members then
      n = redis.call('SINTERCARD', 2, k, members)
    elseif t == 'set' then
      n = bits_set(sel.bm, redis.call('SMEMBERS', k))
    end
    counts[j] = n
  end
end
if #temps > 0 then redis.call('DEL', unpack(temps)) end

local order = {}
for j = 1, #values do order[j] = j end
table.sort(order, function(a, b)
  if counts[a] ~= counts[b] then return counts[a] > counts[b] end
  if totals[a] ~= totals[b] then return totals[a] > totals[b] end
  return values[a] < values[b]
end)
local out = {}
for j = 1, math.min(#order, limit) do
  out[#out + 1] = values[order[j]]
  out[#out + 1] = counts[order[j]]
end
return out
