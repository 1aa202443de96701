-- Shared prelude of the write and query scripts (prepended by sinks/facet_index.py). ARGV[1] is the namespace.
local ns = ARGV[1]
-- The key of up to five parts under the namespace. One concatenation: a write builds dozens a release, and
-- table.concat over a vararg table cost twice as much.
local function key(a, b, c, d, e)
  if e then return ns .. ':' .. a .. ':' .. b .. ':' .. c .. ':' .. d .. ':' .. e end
  if d then return ns .. ':' .. a .. ':' .. b .. ':' .. c .. ':' .. d end
  if c then return ns .. ':' .. a .. ':' .. b .. ':' .. c end
  if b then return ns .. ':' .. a .. ':' .. b end
  return ns .. ':' .. a
end
-- Numbers go to redis.call as '%d' strings where many go: Redis 7.0 prints a Lua number with '%.17g', slowly.
local fmt = string.format

-- A member set of numbers becomes a bitmap once it holds BITMAP_MIN numbers and at least 1/BITMAP_DENSITY of its
-- number space. A query ORs and ANDs bitmaps in C, but copies every member of a set into Lua and back. Measured at
-- 1 M releases (bench/query.py, one client): density 1/256 -> mean cold query 6.4 ms, 1.7 KB Redis per release;
-- 1/1024 -> 2.5 ms, 1.6 KB; 1/4096 -> 1.5 ms, 2.2 KB. The density bound keeps a bitmap at <= 512 bytes a member
-- however big the dump grows.
local BITMAP_MIN = 512
local BITMAP_DENSITY = 4096
local SEQ = {r = 'r', v = 'v', x = 'v', m = 'm'}
-- Bitmaps are written in whole blocks of this many bytes, so those of a kind mostly have one length (see bitop in
-- query.lua); at most 16 KB more per bitmap.
local PAD_BYTES = 16384
-- Ranks whose owners are also kept in u32 arrays (most videos have one or two owners).
local OWNER_ARRAYS = 2
-- Owners at this rank and above share a tail filed per value (k:{kind}:t:{f}:{v}) instead of a rank each: a video
-- or master of a famous album has thousands of owners, and a query spent a pass per rank (1 M releases plus ten
-- masters of 300-2,000 releases: one genre 36 ms, now 1.3 ms). bench/query.py over HTTP, p95: 55 ms with 16, 46 ms
-- with 8. Changing it changes the index format (rebuild with `dataget reindex`).
local TAIL_RANK = 8

local function in_chunks(list, per, fn)
  for s = 1, #list, per do fn(unpack(list, s, math.min(s + per - 1, #list))) end
end

-- Zero bytes up to `bytes` long (never over a byte already there).
local function pad_bitmap(k, bytes)
  if redis.call('STRLEN', k) < bytes then redis.call('SETRANGE', k, bytes - 1, '\0') end
end

-- BITFIELD SET of many bits to one value ('0' or '1'), in calls of at most 1000 bits.
local function set_bits(k, items, bit)
  in_chunks(items, 1000, function(...)
    local args, c = {}, 0
    for _, item in ipairs({...}) do
      args[c + 1] = 'SET'; args[c + 2] = 'u1'; args[c + 3] = string.format('%d', item); args[c + 4] = bit; c = c + 4
    end
    redis.call('BITFIELD', k, unpack(args))
  end)
end
