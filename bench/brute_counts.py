"""Brute-force counts of a few facet queries over a generated catalogue, the exactness check of bench/scale.py."""

from __future__ import annotations

from redis.asyncio import Redis
from universe import DiscogsUniverse, Generated

from schemas.query import FacetQuery
from sinks.facet_index import FacetIndex
from sinks.facets import release_facets


class Brute:
    """Counts of a few queries over the generated records, computed the slow, obvious way while they are indexed.

    A video matches when some matching release lists it. A release's own videos are listed by it alone (their keys
    are its slot's), so they are counted; only videos of a master's pool are kept, as keys, to count them once."""

    def __init__(self, queries: list[FacetQuery]) -> None:
        self.queries = queries
        self.wanted = [{facet: set(values) for facet, values in q.facets.items()} for q in queries]
        self.releases = [0] * len(queries)
        self.own = [0] * len(queries)
        self.shared: list[set[int]] = [set() for _ in queries]
        self.masters: list[set[int]] = [set() for _ in queries]  # unique=master: masters of matching releases
        self.single = [0] * len(queries)  # unique=master: matching releases without a master

    def observe(self, batch: list[Generated]) -> None:
        for _, record, facts in batch:
            if facts is None or not facts.videos:  # the index holds releases with videos only
                continue
            values = release_facets(record)
            for i, wanted in enumerate(self.wanted):
                if all(values[facet] & want for facet, want in wanted.items()):
                    self.releases[i] += 1
                    self.own[i] += len(facts.videos) - facts.shared
                    self.shared[i].update(facts.videos[:facts.shared])
                    if facts.master is None:
                        self.single[i] += 1
                    else:
                        self.masters[i].add(facts.master)

    def counts(self, i: int, universe: DiscogsUniverse) -> tuple[int, int]:
        """(releases, videos) as the index counts them for query i."""
        if self.queries[i].unique != "master":
            return self.releases[i], self.own[i] + len(self.shared[i])
        shared = set(self.shared[i])
        for master in self.masters[i]:  # a group's videos include its master's own
            shared.update(universe.catalogue.shape.master_videos(master))
        return len(self.masters[i]) + self.single[i], self.own[i] + len(shared)

    async def inexact(self, redis: Redis, index: FacetIndex, namespace: str, universe: DiscogsUniverse) -> list[str]:
        """A line for each query whose counts in the index (cold, on a new cache generation) differ from these."""
        wrong = []
        for i, q in enumerate(self.queries):
            await redis.incr(f"{namespace}:gen")
            result = await index.query(q)
            expected = self.counts(i, universe)
            if (result.releases, result.videos) != expected:
                wrong.append(f"{q.facets} unique={q.unique}: index {result.releases}/{result.videos}, brute {expected}")
        return wrong
