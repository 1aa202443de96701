"""Records as zstd frames, for stores that do not compress (FerretDB on SQLite), each entity with a dictionary.

A release's JSON is ~4 KB and repeats the same keys and phrases as every other release; alone, zstd squeezes it
~3.4x, with a 32 KB dictionary trained on real records ~5.2x (masters 2.4x -> 4.6x, artists and labels 1.5x ->
3.3x; bench/record_dicts.py, records it was not trained on). The dictionaries live in sinks/record_dicts as
`{entity}-{n}.zdict`; the highest n of an entity compresses. A frame names its dictionary's id, so a document
reads back with the dictionary it was written with, or with none when it was written without: a dictionary file,
once released, is never changed or removed (a new one takes the next n).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import zstandard

from schemas.records import Record
from schemas.topics import ENTITIES

DICT_DIR = Path(__file__).with_name("record_dicts")
LEVEL = 3  # with a dictionary, level 3 compresses a release in ~17 us; level 9 gains 11% in ~6x the time
_DICT_FILE = re.compile(r"(?P<entity>[a-z]+)-(?P<n>\d+)\.zdict")


class UnknownDictionary(ValueError):
    """A frame compressed with a dictionary this version does not have."""


@dataclass(frozen=True)
class RecordPacker:
    compressors: dict[str, zstandard.ZstdCompressor]
    decompressors: dict[int, zstandard.ZstdDecompressor]
    # zstd's contexts are not safe for concurrent use; the store writes and the site reads from threads.
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def load(cls, directory: Path = DICT_DIR) -> RecordPacker:
        """The dictionaries of directory: every one reads, the newest of each entity writes."""
        newest: dict[str, tuple[int, zstandard.ZstdCompressionDict]] = {}
        decompressors = {0: zstandard.ZstdDecompressor()}
        for path in sorted(directory.glob("*.zdict")):
            match = _DICT_FILE.fullmatch(path.name)
            if match is None or match["entity"] not in ENTITIES:
                raise ValueError(f"{path}: not an entity's dictionary ({{entity}}-{{n}}.zdict)")
            data = zstandard.ZstdCompressionDict(path.read_bytes())
            decompressors[data.dict_id()] = zstandard.ZstdDecompressor(dict_data=data)
            n = int(match["n"])
            if match["entity"] not in newest or n > newest[match["entity"]][0]:
                newest[match["entity"]] = (n, data)
        compressors = {entity: zstandard.ZstdCompressor(level=LEVEL, dict_data=data)
                       for entity, (_, data) in newest.items()}
        return cls(compressors, decompressors)

    def pack(self, entity: str, record: Record) -> bytes:
        """The record's JSON as a zstd frame, with its entity's dictionary."""
        if entity not in self.compressors:
            raise ValueError(f"no zstd dictionary for {entity!r} in {DICT_DIR}")
        with self._lock:
            return self.compressors[entity].compress(orjson.dumps(record))

    def unpack(self, frame: bytes) -> Record:
        dict_id = zstandard.get_frame_parameters(frame).dict_id
        decompressor = self.decompressors.get(dict_id)
        if decompressor is None:
            raise UnknownDictionary(f"record compressed with zstd dictionary {dict_id}, which {DICT_DIR} lacks")
        with self._lock:
            record: Record = orjson.loads(decompressor.decompress(frame))
        return record
