-- Shared prelude of the write and query scripts (prepended by sinks/facet_index.py). ARGV[1] is the namespace.
local ns = ARGV[1]
local function key(...) return ns .. ':' .. table.concat({...}, ':') end

-- A member set of numbers becomes a bitmap once it holds BITMAP_MIN numbers and at least 1/256 of its number
-- space: from then on the bitmap costs at most 32 bytes a member (a big set costs ~50), and AND/OR/count run in C.
local BITMAP_MIN = 512
local SEQ = {r = 'r', v = 'v', x = 'v', m = 'm'}

local function in_chunks(list, per, fn)
  for s = 1, #list, per do fn(unpack(list, s, math.min(s + per - 1, #list))) end
end

-- BITFIELD SET of many bits to one value, in calls of at most 1000 bits.
local function set_bits(k, items, bit)
  in_chunks(items, 1000, function(...)
    local args = {}
    for _, item in ipairs({...}) do
      args[#args + 1] = 'SET'; args[#args + 1] = 'u1'; args[#args + 1] = item; args[#args + 1] = bit
    end
    redis.call('BITFIELD', k, unpack(args))
  end)
end

-- Owners of an item (a video, or a master for m items) by rank, 0 = free rank; in hashes of 128 items each.
local function owners_of(kind, item)
  local bucket = key('o', kind, math.floor(tonumber(item) / 128))
  local raw = redis.call('HGET', bucket, item)
  return bucket, raw and cjson.decode(raw) or {}
end
