-- Counts and a sample of one facet query. ARGV: namespace, query hash, unique mode ('master' or ''), limit,
-- generator state, 'seeded' or '', ttl seconds, key naming the active index version ('' = use the namespace;
-- else the namespace is the version used while the key is unset), the most matching releases whose counts are read
-- off their docs (see counts_from_docs), then per facet: name, number of values, values...
-- Returns {releases, videos, {youtube id, title, release id, ...}}.
-- prelude: common
-- uses: add_numbers, and_into, BATCH, check_layout, facet_args, filter, fmt, held_item, INDEX_FORMAT, key, mismember, ns, OWNER_ARRAYS, stored_doc, tail_key, TAIL_RANK, typed_keys, video_key
local qhash, unique = ARGV[2], ARGV[3]
local limit, state, seeded, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6] == 'seeded', tonumber(ARGV[7])
local temp_ttl = fmt('%d', ttl + 5)  -- a cached result's number sets outlive it
local narrow = tonumber(ARGV[9])

-- The active version is read here, atomic with the query: a reindex switch (and the old version's drop right
-- after) never meets a query half way.
if ARGV[8] ~= '' then ns = redis.call('GET', ARGV[8]) or ns end

local facets = facet_args(10)
if #facets == 0 then facets = {{'*', {'*'}}} end

-- Temporary number sets and cached results are not data: keep them out of the AOF (and replicas), where each query
-- would otherwise append its RBM.AND, RBM.OR and RBM.ADD writes.
redis.set_repl(redis.REPL_NONE)

local gen = redis.call('GET', key('gen')) or '0'
local tmp, tmps = key('tmp', gen, qhash), 0
local function temp()
  tmps = tmps + 1
  return fmt('%s:%d', tmp, tmps)
end

-- The unsigned fields of `width` bits at the given slots of the array k (slot n at bit n * width), by BITFIELD_RO
-- batches.
local function fields(k, width, slots)
  local out, ftype, n = {}, 'u' .. width, 0
  for s = 1, #slots, BATCH do
    local args, c = {}, 0
    for j = s, math.min(s + BATCH - 1, #slots) do
      args[c + 1] = 'GET'; args[c + 2] = ftype; args[c + 3] = fmt('%d', slots[j] * width); c = c + 3
    end
    for _, b in ipairs(redis.call('BITFIELD_RO', k, unpack(args))) do n = n + 1; out[n] = b end
  end
  return out
end

-- A number set is {bm = roaring bitmap key} or {list = array of numbers}; nil is empty.
local function distinct(list)
  local seen, out = {}, {}
  for _, n in ipairs(list) do
    n = tonumber(n)
    if not seen[n] then seen[n] = true; out[#out + 1] = n end
  end
  return out
end

-- Union of number sets: roaring bitmaps ORed by the module, small lists added to the result.
local function union(sets)
  local bms, list = {}, {}
  for _, s in ipairs(sets) do
    if s.bm then bms[#bms + 1] = s.bm else for _, n in ipairs(s.list) do list[#list + 1] = n end end
  end
  if #bms == 0 then return #list > 0 and {list = distinct(list)} or nil end
  if #bms == 1 and #list == 0 then return {bm = bms[1]} end
  local dest = temp()
  redis.call('RBM.OR', dest, unpack(bms))
  add_numbers(dest, list)
  redis.call('EXPIRE', dest, temp_ttl)
  return {bm = dest}
end

-- Intersection: roaring bitmaps ANDed by the module; with a list among them, the smallest list filtered by the others.
local function intersect(sets)
  local bms, lists = {}, {}
  for _, s in ipairs(sets) do
    if not s then return nil end
    if s.bm then bms[#bms + 1] = s.bm else lists[#lists + 1] = s.list end
  end
  if #lists == 0 then
    if #bms == 1 then return {bm = bms[1]} end
    return and_into(temp(), bms, temp_ttl)
  end
  table.sort(lists, function(a, b) return #a < #b end)
  local cand = lists[1]
  for j = 2, #lists do
    local inside, kept = {}, {}
    for _, n in ipairs(lists[j]) do inside[n] = true end
    for _, n in ipairs(cand) do if inside[n] then kept[#kept + 1] = n end end
    cand = kept
  end
  for _, bm in ipairs(bms) do
    if #cand == 0 then break end
    cand = filter(cand, {bms = {bm}, sets = {}})
  end
  return #cand > 0 and {list = cand} or nil
end

local function count(s)
  if not s then return 0 end
  return s.bm and redis.call('RBM.CARD', s.bm) or #s.list
end

-- The keys of a facet's values for a kind and owner rank, roaring bitmaps apart from sets; nil when none exists.
local function facet_keys(kind, rank, f, values)
  local ks = {}
  for j, v in ipairs(values) do ks[j] = key('k', kind, rank, f, v) end
  local fk = typed_keys(ks, temp, temp_ttl)
  if #fk.bms + #fk.sets == 0 then return nil end
  return fk
end

local function members_of(sets)
  if #sets == 0 then return {} end
  return distinct(redis.call(#sets == 1 and 'SMEMBERS' or 'SUNION', unpack(sets)))
end

local function materialize(fk)
  local sets = {}
  for j, k in ipairs(fk.bms) do sets[j] = {bm = k} end
  if #fk.sets > 0 then sets[#sets + 1] = {list = members_of(fk.sets)} end
  return union(sets)
end

-- Items filed under every facet. Facets of small sets only are intersected in C (SINTER over each one's union), so
-- only their common members reach Lua, which then looks them up in the facets with roaring bitmaps; with no such
-- facet, roaring bitmaps are ORed and ANDed by the module.
local function and_facets(fks)
  local small, big = {}, {}
  for _, fk in ipairs(fks) do
    if #fk.bms == 0 then small[#small + 1] = fk else big[#big + 1] = fk end
  end
  if #small == 0 then
    local sets = {}
    for j, fk in ipairs(fks) do sets[j] = materialize(fk) end
    return intersect(sets)
  end
  local cand
  if #small == 1 then
    cand = members_of(small[1].sets)
  else
    local keys = {}
    for j, fk in ipairs(small) do
      if #fk.sets == 1 then
        keys[j] = fk.sets[1]
      else
        keys[j] = temp()
        redis.call('SUNIONSTORE', keys[j], unpack(fk.sets))
      end
    end
    cand = distinct(redis.call('SINTER', unpack(keys)))
  end
  for _, fk in ipairs(big) do
    if #cand == 0 then break end
    cand = filter(cand, fk)
  end
  return #cand > 0 and {list = cand} or nil
end

-- Which of numbers are in the number set s, as a lookup table.
local function members_in(s, numbers)
  local out = {}
  if not s or #numbers == 0 then return out end
  if s.bm then
    for j, b in ipairs(mismember('RBM.MISMEMBER', s.bm, numbers)) do if b == 1 then out[numbers[j]] = true end end
  else
    local inside = {}
    for _, m in ipairs(s.list) do inside[tonumber(m)] = true end
    for _, n in ipairs(numbers) do if inside[n] then out[n] = true end end
  end
  return out
end

-- The numbers of a number set in ascending order.
local function list_of(s)
  if s.bm then return redis.call('RBM.MEMBERS', s.bm) end
  local out = {}
  for j, n in ipairs(s.list) do out[j] = n end
  table.sort(out)
  return out
end

-- The numbers of the number set a that are not in the number set b (nil: empty), as a number set.
local function without(a, b)
  if not b then return a end
  if a.bm and b.bm then
    local dest = temp()
    if redis.call('RBM.ANDNOT', dest, a.bm, b.bm) == 0 then return {list = {}} end
    redis.call('EXPIRE', dest, temp_ttl)
    return {bm = dest}
  end
  local all, out = list_of(a), {}
  local known = members_in(b, all)
  for _, v in ipairs(all) do if not known[v] then out[#out + 1] = v end end
  return {list = out}
end

-- The owners (release numbers by rank) of items of a kind: one HMGET per 128-item bucket.
local function owners_of_all(kind, items)
  local buckets, order, owners = {}, {}, {}
  for _, v in ipairs(items) do
    local b = math.floor(v / 128)
    if not buckets[b] then buckets[b] = {}; order[#order + 1] = b end
    buckets[b][#buckets[b] + 1] = v
  end
  for _, b in ipairs(order) do
    for j, raw in ipairs(redis.call('HMGET', key('o', kind, fmt('%d', b)), unpack(buckets[b]))) do
      owners[buckets[b][j]] = raw and cjson.decode(raw) or {}
    end
  end
  return owners
end

-- The first owner of each item (in the order of owners[item]; 0 = none) that is in the number set s, as
-- {item = owner}.
local function first_owners_in(s, items, owners)
  local numbers, seen, out = {}, {}, {}
  for _, v in ipairs(items) do
    for _, n in ipairs(owners[v]) do
      if n ~= 0 and not seen[n] then seen[n] = true; numbers[#numbers + 1] = n end
    end
  end
  local ok = members_in(s, numbers)
  for _, v in ipairs(items) do
    for _, n in ipairs(owners[v]) do
      if ok[n] then out[v] = n; break end
    end
  end
  return out
end

-- Like first_owners_in, for the owners in the tail (rank TAIL_RANK, a roaring bitmap per item) of items of a kind:
-- the smallest such owner. Against a roaring bitmap, RBM.FIRSTIN checks a batch of items in the module; a list (a
-- narrow query's releases) is looked up in each item's owners.
local function first_tail_owners_in(s, kind, items)
  if s.list then
    local owners = {}
    for _, v in ipairs(items) do owners[v] = redis.call('RBM.MEMBERS', tail_key(kind, v)) end
    return first_owners_in(s, items, owners)
  end
  local out = {}
  for b = 1, #items, BATCH do
    local keys = {}
    for j = b, math.min(b + BATCH - 1, #items) do keys[#keys + 1] = tail_key(kind, items[j]) end
    for j, n in ipairs(redis.call('RBM.FIRSTIN', s.bm, unpack(keys))) do
      if n >= 0 then out[items[b + j - 1]] = n end
    end
  end
  return out
end

-- Items of a kind whose owner at one rank (or the tail, see below) matches every facet; nil when none exists.
local function matching_at(kind, rank)
  local fks = {}
  for j, fv in ipairs(facets) do
    fks[j] = facet_keys(kind, rank, fv[1], fv[2])
    if not fks[j] then return nil end
  end
  return and_facets(fks)
end

-- An index of a kind with a tail must file it per value: one built before filed rank TAIL_RANK like the others.
local function check_tail_layout(kind)
  if redis.call('EXISTS', key('k', kind, TAIL_RANK, '*', '*')) == 1 then
    error(INDEX_FORMAT .. 'index ' .. ns .. ' was built before owners past rank ' .. TAIL_RANK ..
      ' were filed per value: rebuild it with `dataget reindex`')
  end
end

-- Items with an owner at rank TAIL_RANK or above that matches every facet. Those owners are filed per value, not
-- per rank (a famous master's thousands of releases would cost a pass per rank): the items with such owners
-- having a value of every facet are candidates (exact for one facet: matching_any_rank); each candidate's tail
-- owners are looked up among the matching releases.
local function matching_tail(kind, rel, found)
  check_tail_layout(kind)
  local cand = matching_at(kind, 't')
  if not cand or not rel then return nil end
  -- Candidates already found at a lower rank need no check (with a broad query, most).
  local items = list_of(without(cand, found))
  if #items == 0 then return nil end
  -- Either side costs a key read per member (~2 us): the matching releases owning something in the tail give their
  -- tail items (ti: sets, SUNION), or each candidate's tail owners meet the matching releases (RBM.FIRSTIN). The
  -- smaller side is read.
  local owners = typed_keys({key('tr', kind)}, temp, temp_ttl)
  local owning = (#owners.bms + #owners.sets > 0) and intersect({rel, materialize(owners)})
  if not owning then return nil end
  local out, few = {}, nil
  if owning.list or count(owning) <= #items then few = list_of(owning) end
  if few then
    local owned, keys = {}, {}
    for j, n in ipairs(few) do keys[j] = key('ti', kind, fmt('%d', n)) end
    for s = 1, #keys, BATCH do
      for _, v in ipairs(redis.call('SUNION', unpack(keys, s, math.min(s + BATCH - 1, #keys)))) do
        owned[tonumber(v)] = true
      end
    end
    for _, v in ipairs(items) do if owned[v] then out[#out + 1] = v end end
    return #out > 0 and {list = out} or nil
  end
  local owned = first_tail_owners_in(rel, kind, items)
  for _, v in ipairs(items) do if owned[v] then out[#out + 1] = v end end
  return #out > 0 and {list = out} or nil
end

-- With one facet, an item matches when any of its owners has one of the values, whatever its rank: one union of
-- every rank's keys and the tail's (exact for one facet), no AND per rank, and C drops the items found at several.
local function matching_any_rank(kind, layers)
  local ranks = {}
  for rank = 0, math.min(layers, TAIL_RANK) - 1 do ranks[#ranks + 1] = rank end
  if layers > TAIL_RANK then
    check_tail_layout(kind)
    ranks[#ranks + 1] = 't'
  end
  local all = {bms = {}, sets = {}}
  for _, rank in ipairs(ranks) do
    local fk = facet_keys(kind, rank, facets[1][1], facets[1][2])
    if fk then
      for _, k in ipairs(fk.bms) do all.bms[#all.bms + 1] = k end
      for _, k in ipairs(fk.sets) do all.sets[#all.sets + 1] = k end
    end
  end
  return (#all.bms + #all.sets > 0) and materialize(all) or nil
end

-- Items of a kind with an owner (at any rank) matching every facet: rank by rank, each owner is one release;
-- `rel` (the matching releases) checks the tail's candidates.
local function matching_items(kind, rel)
  local layers = tonumber(redis.call('GET', key('layers', kind)) or (kind == 'r' and '1' or '0'))
  if #facets == 1 then return matching_any_rank(kind, layers) end
  local found = {}
  for rank = 0, math.min(layers, TAIL_RANK) - 1 do
    found[#found + 1] = matching_at(kind, rank)
  end
  local below = union(found)
  if layers <= TAIL_RANK then return below end
  local tail = matching_tail(kind, rel, below)
  return (below and tail) and union({below, tail}) or below or tail
end

-- Counts (releases, then the videos as a number set) of a narrow query, read off its few matching releases' docs:
-- its videos are those the docs list (with unique=master, their masters' own too), and a pass over every owner rank
-- and the tail costs ~2 ms whatever the query matches. Exact like that pass: a doc lists what its release is filed
-- under.
local function counts_from_docs(rel)
  local kinds = unique == 'master' and {'v', 'x'} or {'v'}
  local seen, vids, masters, groups = {}, {}, {}, 0
  for _, rid in ipairs(fields(key('rid'), 32, list_of(rel))) do
    local doc = stored_doc(fmt('%d', rid)) or {i = {}}
    for _, kind in ipairs(kinds) do
      for _, entry in ipairs(doc.i[kind] or {}) do
        local v = held_item(entry)[1]
        if not seen[v] then seen[v] = true; vids[#vids + 1] = v end
      end
    end
    -- unique=master: a master counts once, a release without one as itself.
    if unique == 'master' and not (doc.m and masters[doc.m]) then
      groups = groups + 1
      if doc.m then masters[doc.m] = true end
    end
  end
  return unique == 'master' and groups or count(rel), #vids > 0 and {list = vids} or nil
end

local cache = key('q', gen, qhash)
local hit = redis.call('HMGET', cache, 'r', 'v', 'rel', 'vid')
local releases, videos, rel, vid
if hit[1] then
  releases, videos, rel, vid = tonumber(hit[1]), tonumber(hit[2]), cjson.decode(hit[3]), cjson.decode(hit[4])
  rel, vid = rel.none and nil or rel, vid.none and nil or vid
else
  check_layout()
  rel = matching_items('r')
  if not rel then
    releases = 0  -- a video matches through a matching release: none, so no video either
  elseif count(rel) <= narrow then
    releases, vid = counts_from_docs(rel)
  elseif unique == 'master' then
    -- Each master counts once, a release without one counts as itself; the masters' own videos count too.
    local nom = facet_keys('r', 0, '*', {'nom'})
    nom = nom and materialize(nom)
    releases = count(matching_items('m', rel)) + count(rel and nom and intersect({rel, nom}))
    local parts = {}
    for _, kind in ipairs({'v', 'x'}) do parts[#parts + 1] = matching_items(kind, rel) end
    vid = union(parts)
  else
    releases = count(rel)
    vid = matching_items('v', rel)
  end
  videos = count(vid)
  redis.call('HSET', cache, 'r', releases, 'v', videos, 'rel', cjson.encode(rel or {none = true}),
    'vid', cjson.encode(vid or {none = true}))
  redis.call('EXPIRE', cache, ttl)
  -- Only the two results stay for the cache; intermediate roaring bitmaps would pile up under load until they
  -- expire.
  local kept = {[rel and rel.bm or ''] = true, [vid and vid.bm or ''] = true}
  for n = 1, tmps do
    local k = fmt('%s:%d', tmp, n)
    if not kept[k] then redis.call('DEL', k) end
  end
end

-- Park-Miller generator (exact in doubles): a query seed gives the same draws every time.
local function rand_int(n)
  state = (state * 48271) % 2147483647
  return math.floor(state / 2147483647 * n)
end

local picked = {}
local want = math.min(limit, videos)
if want > 0 then
  -- A seeded partial shuffle of the result's ranks (0 = its smallest number), its swaps kept in a table: `want`
  -- distinct ranks in `want` draws, uniform over the result. A small result is listed once; a big one gives the
  -- number at each drawn rank by RBM.SELECT, one call a draw, nothing copied.
  local members, swapped = (vid.list or videos <= 4 * want) and list_of(vid), {}
  for j = 0, want - 1 do
    local r = j + rand_int(videos - j)
    local rank = swapped[r] or r
    swapped[r] = swapped[j] or j
    picked[j + 1] = members and members[rank + 1] or redis.call('RBM.SELECT', vid.bm, fmt('%d', rank))
  end
end

-- Files in found each item's owner (from {item = owner}); returns the items without one.
local function pick_owners(items, owner, found)
  local rest = {}
  for _, v in ipairs(items) do
    if owner[v] then found[v] = owner[v] else rest[#rest + 1] = v end
  end
  return rest
end

-- The release number of each video's first matching owner (by rank): its own owners, then with unique=master
-- its master's (the videos it owns itself); videos without one are left out. Most videos have one or two owners,
-- so the owners of the first ranks are tried from their u32 arrays, and only the rest look up all their owners
-- (those of the tail last).
local function first_matching_owners(items)
  local found, todo = {}, items
  for _, kind in ipairs(unique == 'master' and {'v', 'x'} or {'v'}) do
    for rank = 0, OWNER_ARRAYS - 1 do
      if #todo == 0 or not rel then break end
      local owners, owner = fields(key('o' .. rank, kind), 32, todo), {}
      local ok = members_in(rel, owners)  -- 0 (no owner at the rank) is no release's number
      for n, v in ipairs(todo) do
        if ok[owners[n]] then owner[v] = owners[n] end
      end
      todo = pick_owners(todo, owner, found)
    end
    if #todo > 0 and rel then todo = pick_owners(todo, first_owners_in(rel, todo, owners_of_all(kind, todo)), found) end
    if #todo > 0 and rel then todo = pick_owners(todo, first_tail_owners_in(rel, kind, todo), found) end
  end
  return found
end

local sample = {}
if #picked > 0 then
  local metas, owner = {}, first_matching_owners(picked)
  for j, v in ipairs(picked) do metas[j] = redis.call('HGET', video_key(v), v) end
  local named, numbers, rid_of = {}, {}, {}
  for _, v in ipairs(picked) do
    if owner[v] then named[#named + 1] = v; numbers[#numbers + 1] = owner[v] end
  end
  for j, rid in ipairs(fields(key('rid'), 32, numbers)) do rid_of[named[j]] = rid end
  for j, v in ipairs(picked) do
    local meta = metas[j] or ''
    local tab = string.find(meta, '\t', 1, true) or (#meta + 1)
    sample[#sample + 1] = string.sub(meta, 1, tab - 1)
    sample[#sample + 1] = string.sub(meta, tab + 1)
    sample[#sample + 1] = rid_of[v] or 0
  end
end
return {releases, videos, sample}
