-- The values of a facet whose folded form starts with a prefix, most releases first (ties by value).
-- KEYS: lex zset, count zset. ARGV: lex min, lex max, limit, most matches to rank.
-- prelude: top
-- uses: prefix_matches, ranked
local values, counts = prefix_matches(KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[4]))
local out = {}
for _, i in ipairs(ranked(values, counts, tonumber(ARGV[3]))) do
  out[#out + 1] = values[i]
  out[#out + 1] = counts[i]
end
return out
