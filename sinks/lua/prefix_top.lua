-- The values of a facet whose folded form starts with a prefix, most releases first (ties by value).
-- KEYS: lex zset, count zset. ARGV: lex min, lex max, limit, most matches to rank.
local matches = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))
local values, counts = {}, {}
for i, m in ipairs(matches) do values[i] = string.sub(m, string.find(m, '\0', 1, true) + 1) end
-- ZMSCORE in chunks: Lua's unpack takes at most a few thousand arguments.
for s = 1, #values, 4000 do
  local part = redis.call('ZMSCORE', KEYS[2], unpack(values, s, math.min(s + 3999, #values)))
  for j, c in ipairs(part) do counts[s + j - 1] = tonumber(c) or 0 end
end
local order = {}
for i = 1, #values do order[i] = i end
table.sort(order, function(a, b)
  if counts[a] ~= counts[b] then return counts[a] > counts[b] end
  return values[a] < values[b]
end)
local out = {}
for i = 1, math.min(#order, tonumber(ARGV[3])) do
  out[#out + 1] = values[order[i]]
  out[#out + 1] = counts[order[i]]
end
return out
