-- Shared prelude of the facet index's Lua scripts (prepended by sinks/facet_index.py). ARGV[1] is the namespace.
local ns = ARGV[1]
-- The key of up to five parts under the namespace, in one concatenation (table.concat over a vararg table cost
-- twice as much).
local function key(a, b, c, d, e)
  if e then return ns .. ':' .. a .. ':' .. b .. ':' .. c .. ':' .. d .. ':' .. e end
  if d then return ns .. ':' .. a .. ':' .. b .. ':' .. c .. ':' .. d end
  if c then return ns .. ':' .. a .. ':' .. b .. ':' .. c end
  if b then return ns .. ':' .. a .. ':' .. b end
  return ns .. ':' .. a
end
-- Numbers go to redis.call as '%d' strings where many go: Redis 7.0 prints a Lua number with '%.17g', slowly.
local fmt = string.format

-- Numbers per SMISMEMBER, RBM.MISMEMBER, RBM.ADD, BITFIELD ... call (Lua's unpack takes at most ~8000 arguments).
local BATCH = 1000
-- Starts the error of an index of an older layout (sinks/facet_index.py makes it an IndexFormatError).
local INDEX_FORMAT = 'INDEX_FORMAT '
-- The facets of a query in ARGV from position `first` on (per facet: name, number of values, values...), as
-- {{name, {values}}, ...}.
local function facet_args(first)
  local out, i = {}, first
  while i <= #ARGV do
    local n = tonumber(ARGV[i + 1])
    out[#out + 1] = {ARGV[i], {unpack(ARGV, i + 2, i + 1 + n)}}
    i = i + 2 + n
  end
  return out
end

local function in_chunks(list, per, fn)
  for s = 1, #list, per do fn(unpack(list, s, math.min(s + per - 1, #list))) end
end

-- Adds numbers to the roaring bitmap k (created when missing).
local function add_numbers(k, numbers)
  in_chunks(numbers, BATCH, function(...) redis.call('RBM.ADD', k, ...) end)
end

-- An index of an older layout is refused with what to do (the module's RBM.CHECKLAYOUT, which the writes run too).
-- Returns whether the index has its format written.
local function check_layout()
  return redis.call('RBM.CHECKLAYOUT', ns) == 1
end

-- A number set (k:*, tr:*, mr:*) of fewer than 16 numbers has no key of its own: it is a field of a bucket hash,
-- sb:{bucket}, named by its key without the namespace and holding its numbers as u32s ('' once it has a key of its
-- own). The roaring module's writes move them and RBM.BUCKET names buckets: stack/redis_roaring/src/buckets.rs.

-- One of 131,072 buckets for a name, a fixed function of it: a name keeps its bucket whatever the index's size.
local function hash_bucket(name)
  return fmt('%d', redis.call('RBM.BUCKET', name))
end

-- The bucket and field of number set k.
local function set_slot(k)
  local field = string.sub(k, #ns + 2)
  return key('sb', hash_bucket(field)), field
end

local function unpack_numbers(packed)
  local out = {struct.unpack('<' .. string.rep('I4', #packed / 4), packed)}
  out[#out] = nil  -- struct.unpack ends with the position after the last field
  return out
end

-- The numbers of number set k while it lives in its bucket; {} when it has a key of its own or is empty.
local function bucketed(k)
  local bucket, field = set_slot(k)
  local packed = redis.call('HGET', bucket, field)
  return packed and unpack_numbers(packed) or {}
end

-- The keys of ks that exist, roaring bitmaps apart from SETs: {bms = keys, sets = keys}. A set living in its bucket
-- is copied to a temporary SET (a name from temp(), expiring after ttl seconds), so that callers meet SETs only. A
-- plain bitmap among them is an index of an older layout.
local function typed_keys(ks, temp, ttl)
  local fk = {bms = {}, sets = {}}
  for _, k in ipairs(ks) do
    local t = redis.call('TYPE', k).ok
    if t == 'roaringbm' then
      fk.bms[#fk.bms + 1] = k
    elseif t == 'set' then
      fk.sets[#fk.sets + 1] = k
    elseif t == 'none' then
      local numbers = bucketed(k)
      if #numbers > 0 then
        local copy = temp()
        redis.call('SADD', copy, unpack(numbers))
        redis.call('EXPIRE', copy, ttl)
        fk.sets[#fk.sets + 1] = copy
      end
    else
      error(INDEX_FORMAT .. 'index ' .. ns .. ' holds ' .. k .. ' as a ' .. t .. ', an older layout: ' ..
        'rebuild it with `dataget reindex`')
    end
  end
  return fk
end

-- The intersection of roaring bitmaps stored at the temporary key dest, expiring after ttl seconds: {bm = dest}, or
-- nil when it is empty (then no key is stored).
local function and_into(dest, bms, ttl)
  if redis.call('RBM.AND', dest, unpack(bms)) == 0 then return nil end
  redis.call('EXPIRE', dest, ttl)
  return {bm = dest}
end

-- 1 or 0 for each of numbers: is it a member of k (command: SMISMEMBER for a SET, RBM.MISMEMBER for a roaring
-- bitmap).
local function mismember(command, k, numbers)
  local out = {}
  for s = 1, #numbers, BATCH do
    for j, b in ipairs(redis.call(command, k, unpack(numbers, s, math.min(s + BATCH - 1, #numbers)))) do
      out[s + j - 1] = b
    end
  end
  return out
end

-- The numbers of cand that are in one of the keys of fk (typed_keys), in cand's order.
local function filter(cand, fk)
  local hit = {}
  for _, k in ipairs(fk.bms) do
    for j, b in ipairs(mismember('RBM.MISMEMBER', k, cand)) do if b == 1 then hit[j] = true end end
  end
  for _, k in ipairs(fk.sets) do
    for j, b in ipairs(mismember('SMISMEMBER', k, cand)) do if b == 1 then hit[j] = true end end
  end
  local kept = {}
  for j, n in ipairs(cand) do if hit[j] then kept[#kept + 1] = n end end
  return kept
end
