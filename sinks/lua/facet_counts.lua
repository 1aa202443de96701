-- How many releases each value of a facet has within a selection of the other facets, most first (ties by the
-- value's releases in the whole index, then by value). ARGV: namespace, key naming the active index version
-- ('' = use the namespace), facet, lex range of the folded prefix ('' and '' = any value), limit, candidates,
-- most prefix matches to rank, then per other facet: name, number of values, values... Returns {value, releases, ...}.
-- The candidates are the facet's values with the most releases in the whole index (with the prefix); each is
-- counted exactly: the releases a query of the selection plus that one value matches. A release is its own item
-- (kind r, rank 0), so k:r:0:{facet}:{value} holds a value's releases.
-- prelude: common, top
-- uses: add_numbers, and_into, BATCH, check_layout, facet_args, filter, fmt, key, mismember, ns, prefix_matches, ranked, typed_keys
if ARGV[2] ~= '' then ns = redis.call('GET', ARGV[2]) or ns end
local facet, lo, hi = ARGV[3], ARGV[4], ARGV[5]
local limit, wanted, scan = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
-- A selection of up to this many releases is probed member by member, a bigger one ANDed by the module.
local LIST_MAX = 2048
local TEMP_TTL = '5'  -- temporary keys are deleted before the script returns; the TTL covers one that fails

local others = facet_args(9)

local values, totals = {}, {}
if lo == '' then
  local rows = redis.call('ZREVRANGE', key('cnt', facet), 0, wanted - 1, 'WITHSCORES')
  for j = 1, #rows, 2 do values[#values + 1] = rows[j]; totals[#totals + 1] = tonumber(rows[j + 1]) end
else
  local all, counts = prefix_matches(key('lex', facet), key('cnt', facet), lo, hi, scan)
  for j, at in ipairs(ranked(all, counts, wanted)) do values[j] = all[at]; totals[j] = counts[at] end
end

-- Temporary sets and roaring bitmaps are not data: kept out of the AOF and replicas, as a query's are.
redis.set_repl(redis.REPL_NONE)
local temps = {}
local function temp()
  temps[#temps + 1] = key('tmp', 'counts', fmt('%d', #temps + 1))
  return temps[#temps]
end

-- How many of numbers are in the roaring bitmap k.
local function members_in(k, numbers)
  local n = 0
  for _, b in ipairs(mismember('RBM.MISMEMBER', k, numbers)) do n = n + b end
  return n
end

-- The keys of the releases having one of a facet's values (typed_keys) and `size`, the members of its sets.
local function value_keys(f, vs)
  local ks = {}
  for j, v in ipairs(vs) do ks[j] = key('k', 'r', '0', f, v) end
  local fk = typed_keys(ks, temp, TEMP_TTL)
  fk.size = 0
  for _, k in ipairs(fk.sets) do fk.size = fk.size + redis.call('SCARD', k) end
  return fk
end

-- The selection's releases: {list = numbers} or {bm = roaring bitmap key}; false when none matches. A facet of
-- small sets only gives the candidates, the others filter them; with roaring bitmaps in every facet, ORs and an
-- AND run in the module.
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
      if j ~= seed then cand = filter(cand, fk) end
    end
    if #cand == 0 then return false end
    if #cand <= LIST_MAX then return {list = cand} end
    local dest = temp()
    add_numbers(dest, cand)
    redis.call('EXPIRE', dest, TEMP_TTL)
    return {bm = dest}
  end
  local ors = {}
  for j, fk in ipairs(fks) do
    if #fk.bms == 1 and #fk.sets == 0 then
      ors[j] = fk.bms[1]
    else
      ors[j] = temp()
      redis.call('RBM.OR', ors[j], unpack(fk.bms))
      redis.call('EXPIRE', ors[j], TEMP_TTL)
      for _, k in ipairs(fk.sets) do add_numbers(ors[j], redis.call('SMEMBERS', k)) end
    end
  end
  if #ors == 1 then return {bm = ors[1]} end
  return and_into(temp(), ors, TEMP_TTL) or false
end

-- A temporary SET of the given release numbers: SINTERCARD then counts a small value's releases among them in C.
local function as_set(list)
  local k = temp()
  for s = 1, #list, BATCH do redis.call('SADD', k, unpack(list, s, math.min(s + BATCH - 1, #list))) end
  redis.call('EXPIRE', k, TEMP_TTL)
  return k
end

-- Each candidate is a roaring bitmap or a set of releases, and so is the selection. Roaring bitmap and roaring
-- bitmap: RBM.ANDCARD in the module. A set against a set: SINTERCARD in C. A set against a roaring bitmap selection:
-- either each member looked up in the selection (Lua work per member of the candidates' sets), or the selection made
-- a set once (Lua work per release of the selection) and then SINTERCARD; whichever touches fewer numbers. A roaring
-- bitmap against a small selection list: the list's members looked up in it.
local counts = totals  -- no other facet chosen: the whole index
if #others > 0 then
  check_layout()
  local sel, members = selection(), nil
  local kinds, keys, in_sets = {}, {}, 0
  for j, v in ipairs(values) do
    local fk = sel and typed_keys({key('k', 'r', '0', facet, v)}, temp, TEMP_TTL)
    kinds[j] = fk and (#fk.bms > 0 and 'bm' or #fk.sets > 0 and 'set')
    keys[j] = fk and (fk.bms[1] or fk.sets[1])
    if kinds[j] == 'set' then in_sets = in_sets + redis.call('SCARD', keys[j]) end
  end
  if sel and sel.list then
    if in_sets > 0 then members = as_set(sel.list) end
  elseif sel and in_sets > 0 and redis.call('RBM.CARD', sel.bm) < in_sets then
    members = as_set(redis.call('RBM.MEMBERS', sel.bm))
  end
  counts = {}
  for j = 1, #values do
    local k, t, n = keys[j], kinds[j], 0
    if t == 'bm' and sel.bm then
      n = redis.call('RBM.ANDCARD', sel.bm, k)
    elseif t == 'bm' then
      n = members_in(k, sel.list)
    elseif t == 'set' and members then
      n = redis.call('SINTERCARD', 2, k, members)
    elseif t == 'set' then
      n = members_in(sel.bm, redis.call('SMEMBERS', k))
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
