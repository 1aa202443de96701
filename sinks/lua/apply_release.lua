-- Index, move or remove one release atomically, diffing against what was indexed for it before.
-- ARGV: namespace, release id, payload ('' = remove) as JSON {"f": {facet: {value: fold}}, "v": [[id, title]], "m": id|null}
-- Returns 1 when the index changed, 0 when it already held exactly this state (replays are no-ops).
local ns, rid, payload = ARGV[1], ARGV[2], ARGV[3]
local function key(...) return ns .. ':' .. table.concat({...}, ':') end
local function as_set(list) local s = {} for _, x in ipairs(list) do s[x] = true end return s end

local doc = key('doc', rid)
local raw = redis.call('HMGET', doc, 'f', 'v', 'm')
-- The doc keeps {facet: [values]}; folds live once per value in fold:{facet}.
local old_f = {}
for f, values in pairs(raw[1] and cjson.decode(raw[1]) or {}) do old_f[f] = as_set(values) end
local old_v = raw[2] and cjson.decode(raw[2]) or {}
local old_m = raw[3] or false

local new_f, new_v, new_m, titles = {}, {}, false, {}
if payload ~= '' then
  local p = cjson.decode(payload)
  new_f = p.f
  for _, pair in ipairs(p.v) do
    local idx = redis.call('HGET', key('vid'), pair[1])
    if not idx then
      idx = tostring(redis.call('INCR', key('vseq')))
      redis.call('HSET', key('vid'), pair[1], idx)
    end
    new_v[#new_v + 1] = idx
    titles[idx] = pair[1] .. '\t' .. pair[2]
  end
  if p.m ~= cjson.null and p.m ~= nil then new_m = tostring(p.m) end
end
local old_vs, new_vs = as_set(old_v), as_set(new_v)
local changed = false

-- Video ownership first, so the checks below see the new owners.
local added_v, removed_v = {}, {}
for _, v in ipairs(new_v) do
  if not old_vs[v] then added_v[#added_v + 1] = v; redis.call('SADD', key('vr', v), rid) end
  redis.call('HSET', key('video'), v, titles[v])
end
for _, v in ipairs(old_v) do
  if not new_vs[v] then removed_v[#removed_v + 1] = v; redis.call('SREM', key('vr', v), rid) end
end

-- A facet value keeps a video while another of its releases still has it.
local function kept_elsewhere(v, rset)
  for _, other in ipairs(redis.call('SMEMBERS', key('vr', v))) do
    if other ~= rid and redis.call('SISMEMBER', rset, other) == 1 then return true end
  end
  return false
end
local function drop_videos(videos, rset, vset)
  for _, v in ipairs(videos) do
    if not kept_elsewhere(v, rset) then redis.call('SREM', vset, v) end
  end
end

local facets = {}
for f in pairs(old_f) do facets[f] = true end
for f in pairs(new_f) do facets[f] = true end
for f in pairs(facets) do
  local ov, nv = old_f[f] or {}, new_f[f] or {}
  for value in pairs(ov) do
    local rset, vset = key('r', f, value), key('v', f, value)
    if nv[value] == nil then
      changed = true
      redis.call('SREM', rset, rid)
      if tonumber(redis.call('ZINCRBY', key('cnt', f), -1, value)) <= 0 then
        redis.call('ZREM', key('cnt', f), value)
        redis.call('ZREM', key('lex', f), redis.call('HGET', key('fold', f), value) .. '\0' .. value)
        redis.call('HDEL', key('fold', f), value)
      end
      drop_videos(old_v, rset, vset)
    else
      drop_videos(removed_v, rset, vset)
      if #added_v > 0 then redis.call('SADD', vset, unpack(added_v)) end
    end
  end
  for value, folded in pairs(nv) do
    if ov[value] == nil then
      changed = true
      redis.call('SADD', key('r', f, value), rid)
      if tonumber(redis.call('ZINCRBY', key('cnt', f), 1, value)) == 1 then
        redis.call('HSET', key('fold', f), value, folded)
        redis.call('ZADD', key('lex', f), 0, folded .. '\0' .. value)
      end
      redis.call('SADD', key('v', f, value), unpack(new_v))
    end
  end
end

if #added_v > 0 or #removed_v > 0 then
  changed = true
  redis.call('DEL', key('rv', rid))
  if #new_v > 0 then redis.call('SADD', key('rv', rid), unpack(new_v)) end
  if #added_v > 0 then redis.call('SADD', key('all', 'v'), unpack(added_v)) end
end
for _, v in ipairs(removed_v) do
  if redis.call('EXISTS', key('vr', v)) == 0 then
    redis.call('SREM', key('all', 'v'), v)
    if redis.call('EXISTS', key('vm', v)) == 0 then
      local meta = redis.call('HGET', key('video'), v)
      if meta then redis.call('HDEL', key('vid'), string.match(meta, '^[^\t]*')) end
      redis.call('HDEL', key('video'), v)
    end
  end
end

if old_m ~= new_m then
  changed = true
  if old_m then redis.call('SREM', key('mr', old_m), rid) end
  if new_m then redis.call('SADD', key('mr', new_m), rid) end
end

if payload == '' then
  if redis.call('SREM', key('all', 'r'), rid) == 1 then changed = true end
  redis.call('DEL', doc)
else
  if redis.call('SADD', key('all', 'r'), rid) == 1 then changed = true end
  if changed then
    local lists = {}
    for f, values in pairs(new_f) do
      local list = {}
      for value in pairs(values) do list[#list + 1] = value end
      table.sort(list)
      lists[f] = list
    end
    redis.call('HSET', doc, 'f', cjson.encode(lists), 'v', cjson.encode(new_v))
    if new_m then redis.call('HSET', doc, 'm', new_m) else redis.call('HDEL', doc, 'm') end
  end
end
if changed then redis.call('INCR', key('gen')) return 1 end
return 0
