-- Index, update or remove masters' own videos; a master's videos count for its releases in unique=master queries
-- (kind x items of those releases). ARGV: namespace, then per master: id, payload ('' = remove) as JSON
-- {"v": [[youtube id, title]]}. Returns how many masters changed.
-- prelude: write
-- uses: check_or_mark_layout, filed_under, flush, hget, hset, key, master_videos, master_videos_key, numbers_of, read_doc, sync, video_key, video_number, write_buffered, write_doc
check_or_mark_layout()
local changes = 0
for a = 2, #ARGV, 2 do
  local mid, payload = ARGV[a], ARGV[a + 1]
  local old = master_videos(mid)
  local wanted = {}
  if payload ~= '' then
    for _, pair in ipairs(cjson.decode(payload).v) do
      local n = video_number(pair[1])
      -- A release's title for the video wins over the master's.
      if not hget(video_key(n), n) then hset(video_key(n), n, pair[1] .. '\t' .. pair[2]) end
      wanted[#wanted + 1] = n
    end
  end
  local new, changed = sync(mid, 'M', old, wanted, {}, {})
  if changed then
    changes = changes + 1
    if #new > 0 then
      redis.call('HSET', master_videos_key(mid), mid, cjson.encode(new))
    else
      redis.call('HDEL', master_videos_key(mid), mid)
    end
    for _, rid in ipairs(numbers_of(key('mr', mid))) do
      local doc = read_doc(rid)
      local fv = filed_under(doc, 'x')
      doc.i.x = sync(doc.n, 'x', doc.i.x or {}, wanted, fv, fv)
      write_doc(rid, doc)
    end
  end
end
flush()
write_buffered()
if changes > 0 then redis.call('INCR', key('gen')) end
return changes
