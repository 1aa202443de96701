-- What an answer of the index depends on: the version a query reads and its generation (bumped by every write that
-- changed something). ARGV: namespace, key naming the active index version ('' = use the namespace).
-- Returns {namespace, generation}. No prelude: this runs before every cacheable answer, and common.lua's
-- definitions would cost more than the two GETs.
local ns = ARGV[1]
if ARGV[2] ~= '' then ns = redis.call('GET', ARGV[2]) or ns end
return {ns, redis.call('GET', ns .. ':gen') or '0'}
