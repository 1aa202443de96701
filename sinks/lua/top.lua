-- Shared prelude of the facet value scripts: a facet's values by prefix, ranked by release count.

-- The values whose folded form lies in the lex range [lo, hi] of the `lex` zset (at most `scan` of them, in folded
-- order), and their release counts from the `cnt` zset.
local function prefix_matches(lex, cnt, lo, hi, scan)
  local matches = redis.call('ZRANGEBYLEX', lex, lo, hi, 'LIMIT', 0, scan)
  local values, counts = {}, {}
  for i, m in ipairs(matches) do values[i] = string.sub(m, string.find(m, '\0', 1, true) + 1) end
  -- ZMSCORE in chunks: Lua's unpack takes at most a few thousand arguments.
  for s = 1, #values, 4000 do
    local part = redis.call('ZMSCORE', cnt, unpack(values, s, math.min(s + 3999, #values)))
    for j, c in ipairs(part) do counts[s + j - 1] = tonumber(c) or 0 end
  end
  return values, counts
end

-- The positions of the first `limit` values, most releases first (ties by value).
local function ranked(values, counts, limit)
  local order = {}
  for i = 1, #values do order[i] = i end
  table.sort(order, function(a, b)
    if counts[a] ~= counts[b] then return counts[a] > counts[b] end
    return values[a] < values[b]
  end)
  local out = {}
  for i = 1, math.min(#order, limit) do out[i] = order[i] end
  return out
end
