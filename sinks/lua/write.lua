-- Shared prelude of the write scripts: item ownership by rank and the per-kind diff of a release's items.
-- prelude: common
-- uses: BATCH, check_layout, doc_key, fmt, FORMAT, hash_bucket, held_item, in_chunks, key, ns, OWNER_ARRAYS, set_slot, stored_doc, tail_key, TAIL_RANK, unpack_numbers, video_key

-- Keys that most records of a call write (the seq and count counters, the video and owner hashes, the u32 owner
-- arrays) are read through and written to this buffer, and reach Redis once per call (write_buffered): ~14 commands
-- a release otherwise, each one also copied to the AOF. The script runs atomically, so nobody sees the difference.
local counters, hashes, arrays = {}, {}, {}

local function counter(k)
  if not counters[k] then counters[k] = {tonumber(redis.call('GET', k) or '0'), false} end
  return counters[k][1]
end

local function add_to(k, delta)
  local value = counter(k) + delta
  counters[k] = {value, true}
  return value
end

local function raise_to(k, value)
  if value > counter(k) then counters[k] = {value, true} end
end

-- A hash field as it stands in this call (false: none).
local function hget(k, field)
  local h = hashes[k]
  local value = h and h[tostring(field)]
  if value ~= nil then return value end
  return redis.call('HGET', k, field)
end

-- value false deletes the field.
local function hset(k, field, value)
  if not hashes[k] then hashes[k] = {} end
  hashes[k][tostring(field)] = value
end

-- BITFIELD SET u32 at a bit offset (the last value set at an offset is written).
local function set_u32(k, offset, value)
  if not arrays[k] then arrays[k] = {} end
  arrays[k][tonumber(offset)] = tonumber(value)
end

-- The u32 at a bit offset as it stands in this call.
local function get_u32(k, offset)
  local value = arrays[k] and arrays[k][tonumber(offset)]
  if value then return value end
  return redis.call('BITFIELD_RO', k, 'GET', 'u32', fmt('%d', offset))[1]
end

local function write_buffered()
  for k, c in pairs(counters) do
    if c[2] then redis.call('SET', k, fmt('%d', c[1])) end
  end
  for k, fields in pairs(hashes) do
    local sets, dels = {}, {}
    for field, value in pairs(fields) do
      if value then sets[#sets + 1] = field; sets[#sets + 1] = value else dels[#dels + 1] = field end
    end
    in_chunks(sets, 4000, function(...) redis.call('HSET', k, ...) end)
    in_chunks(dels, 4000, function(...) redis.call('HDEL', k, ...) end)
  end
  for k, slots in pairs(arrays) do
    local args = {}
    for offset, value in pairs(slots) do
      args[#args + 1] = 'SET'; args[#args + 1] = 'u32'; args[#args + 1] = fmt('%d', offset)
      args[#args + 1] = fmt('%d', value)
    end
    in_chunks(args, 4000, function(...) redis.call('BITFIELD', k, ...) end)
  end
  counters, hashes, arrays = {}, {}, {}
end

-- Refuses an index of an older layout (check_layout); writes the format of a new one.
local function check_or_mark_layout()
  if not check_layout() then redis.call('SET', key('format'), FORMAT) end
end

-- A stored doc names its facets by a letter each and leaves out the decade, which its year gives: ~65 of a doc's
-- ~215 bytes, repeated by every release. A facet without a letter is stored by its name, and a doc stored with full
-- names reads the same, so neither a new facet nor an older doc needs a new format.
local FACET_LETTER = {genre = 'g', style = 's', year = 'y', country = 'c', label = 'l', artist = 'a', format = 'f',
  decade = 'd'}
local LETTER_FACET = {}
for name, letter in pairs(FACET_LETTER) do LETTER_FACET[letter] = name end

-- The decade of a doc's year values (sinks/facets.py derives it so), or nil.
local function decade_of(years)
  if not years or #years ~= 1 then return nil end
  return fmt('%d', math.floor(tonumber(years[1]) / 10) * 10)
end

-- The doc of release rid, or nil.
local function read_doc(rid)
  local doc = stored_doc(rid)
  if not doc then return nil end
  local f = {}
  for name, values in pairs(doc.f) do f[LETTER_FACET[name] or name] = values end
  local decade = decade_of(f.year)
  if decade and not f.decade then f.decade = {decade} end
  doc.f = f
  local items = {r = {{doc.n, 0}}}
  for kind, list in pairs(doc.i) do
    local held = {}
    for j, entry in ipairs(list) do held[j] = held_item(entry) end
    items[kind] = held
  end
  doc.i = items
  return doc
end

local function write_doc(rid, doc)
  local stored, derived = {}, decade_of(doc.f.year)
  for name, values in pairs(doc.f) do
    if not (name == 'decade' and #values == 1 and values[1] == derived) then
      stored[FACET_LETTER[name] or name] = values
    end
  end
  local items = {}
  for kind, list in pairs(doc.i) do
    if kind ~= 'r' and #list > 0 then
      local entries = {}
      for j, held in ipairs(list) do entries[j] = held[2] == 0 and held[1] or held end
      items[kind] = entries
    end
  end
  redis.call('HSET', doc_key(rid), rid, cmsgpack.pack({n = doc.n, f = stored, m = doc.m, i = items}))
end

local function delete_doc(rid)
  redis.call('HDEL', doc_key(rid), rid)
end

-- A master's own videos, JSON [[video number, rank]], in hashes of 128 masters each (a key each cost ~70 bytes more).
local function master_videos_key(mid)
  return key('md', fmt('%d', math.floor(tonumber(mid) / 128)))
end

local function master_videos(mid)
  return cjson.decode(redis.call('HGET', master_videos_key(mid), mid) or '[]')
end

-- Kinds whose owners of the first OWNER_ARRAYS ranks are also kept in u32 arrays o{rank}:{kind}.
local ARRAY_KINDS = {v = true, x = true}

-- Owners of an item (a video, or a master for m items) by rank, 0 = free rank; in hashes of 128 items each. A video
-- item whose one owner holds rank 0 (most: ~87% of the discogs profile's) is left out of them, its owner being in
-- o0:{kind} already: ~50 bytes an indexed release.
local function owners_of(kind, item)
  local bucket = key('o', kind, fmt('%d', math.floor(tonumber(item) / 128)))
  local raw = hget(bucket, item)
  if raw then return bucket, cjson.decode(raw) end
  local first = ARRAY_KINDS[kind] and get_u32(key('o0', kind), item * 32) or 0
  return bucket, first ~= 0 and {first} or {}
end

local function store_owners(bucket, kind, item, owners)
  local kept = #owners > 1 or (#owners == 1 and not ARRAY_KINDS[kind])
  hset(bucket, item, kept and cjson.encode(owners))
end

-- Filing changes are collected per key (last change of a member wins) and written by flush(), once per key and
-- script call: keys like k:v:0:*:* are touched by every release of a batch.
local pending = {}
local function file_member(k, item, add)
  if not pending[k] then pending[k] = {} end
  pending[k][item] = add
end

-- Changes of the tail's counts (file_tail) are summed per item and value over the call and written once per item:
-- a batch of a famous master's releases changes a dozen counts of each of the same items per release, and one
-- HINCRBY each cost a command per count.
local tail_counts = {}  -- tc key -> {kind, item, deltas = {field = delta}, values = {field = {facet, value}}}

local function count_tail(kind, item, fv, delta)
  local counts = key('tc', kind, item)
  local t = tail_counts[counts]
  if not t then
    t = {kind = kind, item = item, deltas = {}, values = {}}
    tail_counts[counts] = t
  end
  local field = (FACET_LETTER[fv[1]] or fv[1]) .. '\0' .. fv[2]
  t.deltas[field] = (t.deltas[field] or 0) + delta
  t.values[field] = fv
end

-- Writes the summed counts; an item whose count of a value turns from 0 or to 0 is filed or unfiled under it.
local function flush_tail()
  for counts, t in pairs(tail_counts) do
    local fields, sets, dels = {}, {}, {}
    for field, delta in pairs(t.deltas) do
      if delta ~= 0 then fields[#fields + 1] = field end
    end
    for s = 1, #fields, BATCH do
      local part = {unpack(fields, s, math.min(s + BATCH - 1, #fields))}
      for j, c in ipairs(redis.call('HMGET', counts, unpack(part))) do
        local field = part[j]
        local before = tonumber(c) or 0
        local after = before + t.deltas[field]
        if after > 0 then
          sets[#sets + 1] = field
          sets[#sets + 1] = fmt('%d', after)
        else
          dels[#dels + 1] = field
        end
        if (before > 0) ~= (after > 0) then
          local fv = t.values[field]
          file_member(key('k', t.kind, 't', fv[1], fv[2]), t.item, after > 0)
        end
      end
    end
    in_chunks(sets, 4000, function(...) redis.call('HSET', counts, ...) end)
    in_chunks(dels, 4000, function(...) redis.call('HDEL', counts, ...) end)
  end
  tail_counts = {}
end

-- Files the call's changes, each number set's at once: the module (RBM.FILE) rewrites a set in its bucket or its own
-- key, moves it to its own key at 16 numbers and makes that a roaring bitmap at 512, in C rather than in Lua.
local function flush()
  flush_tail()
  local args, n = {ns}, 1
  local function send()
    if n > 1 then redis.call('RBM.FILE', unpack(args, 1, n)) end
    args, n = {ns}, 1
  end
  for k, members in pairs(pending) do
    local adds, rems = {}, {}
    for item, add in pairs(members) do
      if add then adds[#adds + 1] = item else rems[#rems + 1] = item end
    end
    -- In parts of at most BATCH numbers: Lua's unpack takes at most ~8000 values.
    local r, a = 1, 1
    repeat
      local nr = math.min(#rems - r + 1, BATCH)
      local na = math.min(#adds - a + 1, BATCH - nr)
      args[n + 1] = k; args[n + 2] = fmt('%d', nr); args[n + 3] = fmt('%d', na); n = n + 3
      for j = r, r + nr - 1 do n = n + 1; args[n] = rems[j] end
      for j = a, a + na - 1 do n = n + 1; args[n] = adds[j] end
      r, a = r + nr, a + na
      if n >= BATCH then send() end
    until r > #rems and a > #adds
  end
  send()
  pending = {}
end

-- The numbers of number set k, wherever it lives (as flushed).
local function numbers_of(k)
  local bucket, field = set_slot(k)
  local packed = hget(bucket, field)
  if packed ~= '' then return packed and unpack_numbers(packed) or {} end
  if redis.call('TYPE', k).ok == 'roaringbm' then return redis.call('RBM.MEMBERS', k) end
  return redis.call('SMEMBERS', k)
end

-- The hash holding a YouTube id's video number: vid:{hash_bucket(id)}, ~230 ids each at the full catalogue's ~30M
-- videos (listpacks while hash-max-listpack-entries, 512 in the stack's Redis, allows), and at 200k videos about as
-- much memory as one hash of them all.
local function vid_key(yt)
  return key('vid', hash_bucket(yt))
end

-- The number of a YouTube id, handed out on first sight.
local function video_number(yt)
  local bucket = vid_key(yt)
  local n = hget(bucket, yt)
  if n then return n end
  n = fmt('%d', add_to(key('seq', 'v'), 1))
  hset(bucket, yt, n)
  return n
end

-- The other way round, ti:{kind}:{owner} holds the items a release owns in the tail, and tr:{kind} (a SET or a
-- roaring bitmap, as k:* keys) every release owning any: a query meets the matching releases with the tail in one
-- intersection and one SUNION.
local function link_tail_owner(kind, owner, item, add)
  if kind == 'M' then return end  -- masters owning their videos: no query looks for them
  local items = key('ti', kind, owner)
  if add then redis.call('SADD', items, item) else redis.call('SREM', items, item) end
  if redis.call('EXISTS', items) == (add and 1 or 0) then file_member(key('tr', kind), fmt('%d', owner), add) end
end

-- owners: the item's owners below the tail when the caller has them already.
local function has_owners(kind, item, owners)
  owners = owners or select(2, owners_of(kind, item))
  for _, o in ipairs(owners) do if o ~= 0 then return true end end
  return redis.call('EXISTS', tail_key(kind, item)) == 1
end

-- The video's number and title go once neither a release nor a master holds it.
local function forget_video_if_unused(item)
  if not has_owners('v', item) and not has_owners('M', item) then
    local meta = hget(video_key(item), item)
    if meta then
      local yt = string.match(meta, '^[^\t]*')
      hset(vid_key(yt), yt, false)
    end
    hset(video_key(item), item, false)
  end
end

-- The owners of the first OWNER_ARRAYS ranks of every video item, also in u32 arrays o{rank}:{kind}: a query's
-- sample finds most owners with one BITFIELD_RO per rank instead of one HMGET per owner bucket.
local function set_owner_slot(kind, item, rank, owner)
  if rank < OWNER_ARRAYS and ARRAY_KINDS[kind] then
    set_u32(key('o' .. rank, kind), item * 32, owner)
  end
end

-- Give owner the lowest free rank of item (kind r: a release is its own item, rank 0), or the tail.
local function take_rank(kind, item, owner)
  if kind == 'r' then return 0 end
  local bucket, owners = owners_of(kind, item)
  if kind == 'v' and not has_owners(kind, item, owners) then add_to(key('count', 'v'), 1) end
  local rank = #owners
  for i, o in ipairs(owners) do if o == 0 then rank = i - 1 break end end
  if rank >= TAIL_RANK then
    rank = TAIL_RANK
    redis.call('RBM.ADD', tail_key(kind, item), fmt('%d', owner))
    link_tail_owner(kind, owner, item, true)
  else
    owners[rank + 1] = tonumber(owner)
    store_owners(bucket, kind, item, owners)
    set_owner_slot(kind, item, rank, owner)
  end
  raise_to(key('layers', kind), rank + 1)
  return rank
end

local function free_rank(kind, item, rank, owner)
  if kind == 'r' then return end
  local bucket, owners = owners_of(kind, item)
  if rank >= TAIL_RANK then
    redis.call('RBM.REM', tail_key(kind, item), fmt('%d', owner))
    link_tail_owner(kind, owner, item, false)
  else
    owners[rank + 1] = 0
    set_owner_slot(kind, item, rank, 0)
    while #owners > 0 and owners[#owners] == 0 do owners[#owners] = nil end
    store_owners(bucket, kind, item, owners)
  end
  if not has_owners(kind, item, owners) then
    if kind == 'v' then add_to(key('count', 'v'), -1) end
    if kind == 'v' or kind == 'M' then forget_video_if_unused(item) end
  end
end

-- The {facet, value} pairs an item of this kind is filed under: the release's values, '*' = every release, and
-- for the release itself '*:nom' = has no master (unique=master counts those one by one).
local function filed_under(doc, kind)
  local out = {}
  if not doc.n then return out end
  for f, values in pairs(doc.f) do
    for _, v in ipairs(values) do out[#out + 1] = {f, v} end
  end
  out[#out + 1] = {'*', '*'}
  if kind == 'r' and not doc.m then out[#out + 1] = {'*', 'nom'} end
  return out
end

local function minus(a, b)
  local seen, out = {}, {}
  for _, fv in ipairs(b) do seen[fv[1] .. '\0' .. fv[2]] = true end
  for _, fv in ipairs(a) do
    if not seen[fv[1] .. '\0' .. fv[2]] then out[#out + 1] = fv end
  end
  return out
end

-- Owners at TAIL_RANK and above (common.lua): k:{kind}:t:{f}:{v} holds the items with at least one such owner
-- having the value, and tc:{kind}:{item} counts those owners per value (the facet named by its letter, as in docs).
local function file_tail(kind, item, pairs_, add)
  for _, fv in ipairs(pairs_) do count_tail(kind, item, fv, add and 1 or -1) end
end

local function file(kind, rank, item, pairs_, add)
  if rank >= TAIL_RANK then return file_tail(kind, item, pairs_, add) end
  for _, fv in ipairs(pairs_) do
    file_member(key('k', kind, rank, fv[1], fv[2]), item, add)
  end
end

-- Move release n's items of one kind from old (array of {item, rank}) to wanted (array of items), and its
-- filing from old_fv to new_fv. Returns the new {item, rank} array and whether anything changed.
local function sync(n, kind, old, wanted, old_fv, new_fv)
  local want, kept, out, changed = {}, {}, {}, false
  for _, item in ipairs(wanted) do want[tostring(item)] = true end
  -- Only items kept need the diff (a new release keeps none).
  local gone, came = {}, {}
  if #old > 0 then gone, came = minus(old_fv, new_fv), minus(new_fv, old_fv) end
  for _, pair in ipairs(old) do
    local item, rank = tostring(pair[1]), pair[2]
    if want[item] then
      kept[item] = true
      out[#out + 1] = pair
      file(kind, rank, item, gone, false)
      file(kind, rank, item, came, true)
      changed = changed or #gone > 0 or #came > 0
    else
      changed = true
      file(kind, rank, item, old_fv, false)
      free_rank(kind, item, rank, n)
    end
  end
  for _, w in ipairs(wanted) do
    local item = tostring(w)
    if not kept[item] then
      kept[item] = true
      changed = true
      local rank = take_rank(kind, item, n)
      out[#out + 1] = {tonumber(item), rank}
      file(kind, rank, item, new_fv, true)
    end
  end
  return out, changed
end

local function items_of(pairs_)
  local out = {}
  for i, pair in ipairs(pairs_ or {}) do out[i] = pair[1] end
  return out
end
