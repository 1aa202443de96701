-- Index, update or remove one master's own videos atomically (used by unique=master queries).
-- ARGV: namespace, master id, payload ('' = remove) as JSON {"v": [[id, title]]}. Returns 1 when the index changed.
local ns, mid, payload = ARGV[1], ARGV[2], ARGV[3]
local function key(...) return ns .. ':' .. table.concat({...}, ':') end

local doc = key('mdoc', mid)
local raw = redis.call('GET', doc)
local old_v = raw and cjson.decode(raw) or {}
local new_v, new_vs, old_vs = {}, {}, {}
if payload ~= '' then
  for _, pair in ipairs(cjson.decode(payload).v) do
    local idx = redis.call('HGET', key('vid'), pair[1])
    if not idx then
      idx = tostring(redis.call('INCR', key('vseq')))
      redis.call('HSET', key('vid'), pair[1], idx)
    end
    new_v[#new_v + 1] = idx
    new_vs[idx] = true
    -- A release's title for the video wins over the master's.
    redis.call('HSETNX', key('video'), idx, pair[1] .. '\t' .. pair[2])
  end
end
for _, v in ipairs(old_v) do old_vs[v] = true end

local changed = false
for _, v in ipairs(new_v) do
  if not old_vs[v] then changed = true; redis.call('SADD', key('vm', v), mid) end
end
for _, v in ipairs(old_v) do
  if not new_vs[v] then
    changed = true
    redis.call('SREM', key('vm', v), mid)
    if redis.call('EXISTS', key('vm', v)) == 0 and redis.call('EXISTS', key('vr', v)) == 0 then
      local meta = redis.call('HGET', key('video'), v)
      if meta then redis.call('HDEL', key('vid'), string.match(meta, '^[^\t]*')) end
      redis.call('HDEL', key('video'), v)
    end
  end
end
if changed then
  redis.call('DEL', key('mv', mid))
  if #new_v > 0 then
    redis.call('SADD', key('mv', mid), unpack(new_v))
    redis.call('SET', doc, cjson.encode(new_v))
  else
    redis.call('DEL', doc)
  end
  redis.call('INCR', key('gen'))
  return 1
end
return 0
