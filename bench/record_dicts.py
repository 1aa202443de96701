"""The zstd dictionaries of stored records (sinks/record_packing.py): how much they save, and training them.

    .venv/bin/python bench/record_dicts.py [--dumps DIR]            # ratios on records the dictionary never saw
    .venv/bin/python bench/record_dicts.py --write N [--dumps DIR]  # train on every record, write {entity}-N.zdict

Reads real dump excerpts (default: ../shared/fixtures/discogs, else tests/fixtures/discogs). The ratios train a
dictionary on half of each entity's records and compress the other half one record at a time, as the store does,
at sinks/record_packing.py's level: without a dictionary, then with one. `--write N` trains on every record and
writes sinks/record_dicts/{entity}-N.zdict; a released dictionary is never changed, so N must be new.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import orjson
import zstandard

from producers.records import iter_records
from schemas.topics import ENTITIES
from sinks.record_packing import DICT_DIR, LEVEL

ROOT = Path(__file__).resolve().parent.parent
DICT_BYTES = 32 * 1024  # 110 KB dictionaries gain 2-4% on releases and lose on artists and labels (too few samples)


def records(dumps: Path, entity: str) -> list[bytes]:
    return [orjson.dumps(item.record) for path in sorted(dumps.glob(f"{entity}-sample-*.xml"))
            for item in iter_records(path) if item.record is not None]


def train(samples: list[bytes]) -> zstandard.ZstdCompressionDict:
    return zstandard.train_dictionary(DICT_BYTES, samples, level=LEVEL)


def ratios(samples: list[bytes]) -> tuple[float, float]:
    """Compression ratio of one half without and with a dictionary trained on the other half."""
    shuffled = samples[:]
    random.Random(1).shuffle(shuffled)
    learn, test = shuffled[:len(shuffled) // 2], shuffled[len(shuffled) // 2:]
    plain = zstandard.ZstdCompressor(level=LEVEL)
    with_dict = zstandard.ZstdCompressor(level=LEVEL, dict_data=train(learn))
    size = sum(map(len, test))
    return (size / sum(len(plain.compress(r)) for r in test),
            size / sum(len(with_dict.compress(r)) for r in test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = ROOT.parent / "shared" / "fixtures" / "discogs"
    parser.add_argument("--dumps", type=Path, default=shared if shared.exists() else ROOT / "tests/fixtures/discogs")
    parser.add_argument("--write", type=int, metavar="N", help="write sinks/record_dicts/{entity}-N.zdict")
    args = parser.parse_args()
    for entity in ENTITIES:
        samples = records(args.dumps, entity)
        if args.write is not None:
            path = DICT_DIR / f"{entity}-{args.write}.zdict"
            if path.exists():
                raise SystemExit(f"{path} exists: a released dictionary is never changed")
            DICT_DIR.mkdir(exist_ok=True)
            path.write_bytes(train(samples).as_bytes())
            print(f"wrote {path.relative_to(ROOT)} from {len(samples)} records")
            continue
        without, with_dict = ratios(samples)
        print(f"{entity:8} {len(samples):5} records, {sum(map(len, samples)) // len(samples):5} B of JSON each: "
              f"zstd {without:.2f}x, with a dictionary {with_dict:.2f}x ({1 - without / with_dict:.0%} smaller)")


if __name__ == "__main__":
    main()
