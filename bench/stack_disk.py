"""What one throwaway namespace holds on the local stack: its Kafka topics' log directories, its FerretDB collections
and database files, its Redis keys' memory, and the data directory of a Redis of its own (AOF)."""

from __future__ import annotations

from pathlib import Path

from pymongo import MongoClient
from redis import Redis

from dataget.stack import build_dir, service
from dataget.stack.services import Service
from runtime.settings import Settings

# Keys per pipeline of MEMORY USAGE calls.
MEMORY_BATCH = 1000


def allocated_bytes(path: Path) -> int:
    """Disk blocks under path (files and directories), as du counts them: sparse index files count what they use."""
    if not path.exists():
        return 0
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    total = 0
    for file in files:
        try:
            total += file.stat().st_blocks * 512
        except FileNotFoundError:  # a segment deleted or rolled meanwhile
            continue
    return total


def data_dir(settings: Settings, name: str) -> Path:
    return service(settings, name).data_dir(build_dir(settings).parent)


def kafka_topic_bytes(settings: Settings, topics: dict[str, str]) -> dict[str, int]:
    """Disk of each named topic's partitions (`{name: topic}`), and under "other" what else the namespace's prefix
    and its workers' group hold (faust's own topics)."""
    log_dir = data_dir(settings, "kafka") / "log"
    sizes = dict.fromkeys([*topics, "other"], 0)
    by_topic = {topic: name for name, topic in topics.items()}
    if not log_dir.is_dir():
        return sizes
    for partition in log_dir.iterdir():
        topic = partition.name.rpartition("-")[0]
        if topic in by_topic:
            sizes[by_topic[topic]] += allocated_bytes(partition)
        elif partition.name.startswith(settings.namespace) and ".delete" not in partition.name:
            sizes["other"] += allocated_bytes(partition)
    return sizes


def ferretdb_bytes(settings: Settings, collections: list[str]) -> tuple[dict[str, int], int]:
    """FerretDB's own size of each collection (collStats totalSize: table and indexes), and the database files'
    disk (SQLite file, WAL and shared memory)."""
    mongo: MongoClient[dict[str, object]] = MongoClient(settings.mongo_url)
    try:
        db = mongo[settings.mongo_db]
        present = set(db.list_collection_names())
        sizes = {name: int(db.command("collStats", name)["totalSize"]) if name in present else 0
                 for name in collections}
    finally:
        mongo.close()
    files = data_dir(settings, "ferretdb").glob(f"{settings.mongo_db}.sqlite*")
    return sizes, sum(allocated_bytes(f) for f in files)


def redis_namespace_bytes(settings: Settings) -> int:
    """Sum of MEMORY USAGE of the namespace's keys."""
    redis = Redis.from_url(settings.redis_url)
    try:
        total = 0
        batch: list[bytes] = []
        for key in redis.scan_iter(f"{settings.namespace}:*", count=MEMORY_BATCH):
            batch.append(key)
            if len(batch) == MEMORY_BATCH:
                total += _memory_usage(redis, batch)
                batch = []
        return total + _memory_usage(redis, batch)
    finally:
        redis.close()


def _memory_usage(redis: Redis, keys: list[bytes]) -> int:
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key)
    return sum(size or 0 for size in pipe.execute())


def redis_disk_bytes(redis: Service, stack_dir: Path) -> int:
    """Disk of a Redis' data directory (AOF base and increments) started by the stack's code in stack_dir."""
    return allocated_bytes(redis.data_dir(stack_dir))
