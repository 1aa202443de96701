"""RecordPacker: each entity's records through its zstd dictionary, and frames read back by the id they name."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import zstandard

from producers.records import iter_records
from schemas.topics import ENTITIES
from sinks.record_packing import DICT_DIR, LEVEL, RecordPacker, UnknownDictionary


def fixture_records(fixtures_dir: Path, entity: str) -> list[dict]:
    return [item.record for path in sorted(fixtures_dir.glob(f"{entity}-sample-*.xml"))
            for item in iter_records(path) if item.record is not None]


@pytest.mark.parametrize("entity", ENTITIES)
def test_records_round_trip_through_their_entitys_dictionary(fixtures_dir: Path, entity: str) -> None:
    packer = RecordPacker.load()
    records = fixture_records(fixtures_dir, entity)[:200]
    frames = [packer.pack(entity, record) for record in records]
    assert [packer.unpack(frame) for frame in frames] == records
    used = {zstandard.get_frame_parameters(frame).dict_id for frame in frames}
    assert len(used) == 1 and 0 not in used
    # The dictionary is the point: the same records alone at the same level take far more bytes.
    plain = zstandard.ZstdCompressor(level=LEVEL)
    assert sum(map(len, frames)) < 0.8 * sum(len(plain.compress(orjson.dumps(r))) for r in records)


def test_frames_without_a_dictionary_read_and_unknown_ones_are_named() -> None:
    packer = RecordPacker.load()
    record = {"id": 1, "title": "Plain"}
    assert packer.unpack(zstandard.ZstdCompressor().compress(orjson.dumps(record))) == record
    foreign = zstandard.train_dictionary(4096, [orjson.dumps({"id": n, "title": f"t{n}" * n}) for n in range(300)])
    frame = zstandard.ZstdCompressor(dict_data=foreign).compress(orjson.dumps(record))
    with pytest.raises(UnknownDictionary, match=f"dictionary {foreign.dict_id()}"):
        packer.unpack(frame)


def test_the_newest_dictionary_of_an_entity_writes_and_every_one_reads(tmp_path: Path) -> None:
    for path in DICT_DIR.glob("*.zdict"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    old = RecordPacker.load(tmp_path)
    record = {"id": 2, "title": "Kept", "genres": ["Rock"]}
    old_frame = old.pack("releases", record)
    retrained = zstandard.train_dictionary(4096, [orjson.dumps({"id": n, "genres": ["Jazz"] * (n % 5)})
                                                  for n in range(400)])
    (tmp_path / "releases-99.zdict").write_bytes(retrained.as_bytes())
    new = RecordPacker.load(tmp_path)
    assert zstandard.get_frame_parameters(new.pack("releases", record)).dict_id == retrained.dict_id()
    assert new.unpack(old_frame) == record
    (tmp_path / "releases-x.zdict").write_bytes(b"")
    with pytest.raises(ValueError, match="not an entity's dictionary"):
        RecordPacker.load(tmp_path)
    with pytest.raises(ValueError, match="no zstd dictionary for 'users'"):
        new.pack("users", record)
