"""Every video of a selection up to a limit, each once: what playlists and exports are made of (pure over the index)."""

from __future__ import annotations

from dataclasses import replace

from schemas.playlist_jobs import MAX_PLAYLIST_ITEMS
from schemas.query import MAX_LIMIT, FacetQuery, SampleVideo
from web.ports import ReleaseIndex

# The most videos one collection returns (the largest playlist, the largest export).
MAX_COLLECTED = MAX_PLAYLIST_ITEMS
# Draws of MAX_LIMIT: enough to gather the most from a big match even with some repeats.
MAX_DRAWS = 3 * MAX_COLLECTED // MAX_LIMIT


async def collect_videos(index: ReleaseIndex, query: FacetQuery) -> list[SampleVideo]:
    """Up to query.limit distinct videos, in an order fixed by the seed.

    The index samples at most MAX_LIMIT videos per call, so a bigger selection draws further samples with the
    seeds that follow until it has enough or every matching video, for at most MAX_DRAWS draws. One draw holds
    the whole of a selection of up to MAX_LIMIT videos; of a bigger one, a few videos can stay undrawn when the
    limit asks for all of them (the index can sample a selection, not list it).
    """
    seed = 0 if query.seed is None else query.seed
    videos: dict[str, SampleVideo] = {}
    for draw in range(MAX_DRAWS):
        result = await index.query(replace(query, limit=min(query.limit, MAX_LIMIT), seed=seed + draw))
        for video in result.sample:
            videos.setdefault(video.video_id, video)
        # A draw that brings nothing new proves nothing: near the end of a selection most draws are repeats.
        if len(videos) >= min(query.limit, result.videos):
            break
    return list(videos.values())[: query.limit]
