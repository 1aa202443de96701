-- Index, move or remove releases, each diffed against what was indexed for it before (replays are no-ops).
-- ARGV: namespace, then per release: id, payload ('' = remove) as JSON
-- {"f": {facet: {value: folded}}, "v": [[youtube id, title]], "m": master id | null}. Returns how many changed.
-- prelude: write
-- uses: add_to, check_or_mark_layout, delete_doc, file_member, filed_under, flush, hset, items_of, key, master_videos, raise_to, set_u32, read_doc, sync, video_key, video_number, write_buffered, write_doc
local KINDS = {'r', 'v', 'm', 'x'}
check_or_mark_layout()

-- Release counts per facet value, summed over the call and written once per value; folded forms for prefix search.
-- fold:{f} keeps a value's folded form (to remove its lex:{f} entry) only when it is not string.lower(value): for an
-- ASCII value, sinks/facets.py fold is just that, so most values need none. An index built before keeps every value's.
local deltas, folded = {}, {}  -- by facet, then value

local function write_counts()
  for f, values in pairs(deltas) do
    for value, delta in pairs(values) do
      local c = delta ~= 0 and tonumber(redis.call('ZINCRBY', key('cnt', f), delta, value)) or -1
      if c > 0 and c == delta then
        local fv = folded[f][value]
        if fv ~= string.lower(value) then redis.call('HSET', key('fold', f), value, fv) end
        redis.call('ZADD', key('lex', f), 0, fv .. '\0' .. value)
      elseif c == 0 then
        local kept = redis.call('HGET', key('fold', f), value)
        redis.call('ZREM', key('cnt', f), value)
        redis.call('ZREM', key('lex', f), (kept or string.lower(value)) .. '\0' .. value)
        if kept then redis.call('HDEL', key('fold', f), value) end
      end
    end
  end
end

-- Counts delta for the values of list that are not in other (old and new values of one facet).
local function count_missing(f, list, other, delta, folds)
  local inside = {}
  for _, v in ipairs(other or {}) do inside[v] = true end
  for _, v in ipairs(list or {}) do
    if not inside[v] then
      if not deltas[f] then deltas[f], folded[f] = {}, {} end
      deltas[f][v] = (deltas[f][v] or 0) + delta
      if folds[v] then folded[f][v] = folds[v] end
    end
  end
end

local function value_diff(old_f, new_f, folds)
  for f, values in pairs(old_f) do count_missing(f, values, new_f[f], -1, folds) end
  for f, values in pairs(new_f) do count_missing(f, values, old_f[f], 1, folds) end
end

local function apply_release(rid, payload)
  local old = read_doc(rid)
  if not old and payload == '' then return false end
  old = old or {f = {}, i = {}}
  local new, wanted, folds = {f = {}, i = {}}, {r = {}, v = {}, m = {}, x = {}}, {}
  if payload ~= '' then
    local p = cjson.decode(payload)
    new.n = old.n or add_to(key('seq', 'r'), 1)
    for f, values in pairs(p.f) do
      local list = {}
      for value, folded in pairs(values) do list[#list + 1] = value; folds[value] = folded end
      table.sort(list)
      new.f[f] = list
    end
    for _, pair in ipairs(p.v) do
      local n = video_number(pair[1])
      hset(video_key(n), n, pair[1] .. '\t' .. pair[2])
      wanted.v[#wanted.v + 1] = n
    end
    wanted.r = {new.n}
    if p.m ~= cjson.null and p.m ~= nil then
      new.m = tostring(p.m)
      wanted.m = {new.m}
      wanted.x = items_of(master_videos(new.m))
      raise_to(key('seq', 'm'), p.m)
    end
  end
  local n = new.n or old.n
  local changed = old.n == nil or new.n == nil or old.m ~= new.m
  -- Kinds other than r share one filing (r adds '*:nom').
  local old_fv, new_fv = {}, {}
  for _, kind in ipairs({'r', 'v'}) do old_fv[kind], new_fv[kind] = filed_under(old, kind), filed_under(new, kind) end
  for _, kind in ipairs(KINDS) do
    local c, filing = nil, kind == 'r' and 'r' or 'v'
    new.i[kind], c = sync(n, kind, old.i[kind] or {}, wanted[kind], old_fv[filing], new_fv[filing])
    changed = changed or c
  end
  if not changed then return false end
  value_diff(old.f, new.f, folds)
  if old.m ~= new.m then
    if old.m then file_member(key('mr', old.m), rid, false) end
    if new.m then file_member(key('mr', new.m), rid, true) end
  end
  if new.n then
    if not old.n then
      add_to(key('count', 'r'), 1)
      set_u32(key('rid'), n * 32, rid)
    end
    write_doc(rid, new)
  else
    add_to(key('count', 'r'), -1)
    delete_doc(rid)
  end
  return true
end

local changes = 0
for a = 2, #ARGV, 2 do
  if apply_release(ARGV[a], ARGV[a + 1]) then changes = changes + 1 end
end
flush()
write_counts()
write_buffered()
if changes > 0 then redis.call('INCR', key('gen')) end
return changes
