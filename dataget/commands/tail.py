"""`dataget tail TOPIC [--from-beginning]`: an example consumer of the public topics, printing records."""

from __future__ import annotations

import argparse
import sys

import orjson
from kafka import KafkaConsumer

from runtime.settings import Settings


def format_message(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> str:
    """One line per message: key, headers, then the JSON value (or `null` for a tombstone)."""
    meta = " ".join(f"{k}={v.decode(errors='replace')}" for k, v in headers)
    body = "null" if value is None else orjson.dumps(orjson.loads(value)).decode()
    return f"{(key or b'').decode(errors='replace')}\t{meta}\t{body}"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("tail", help="print the messages of a topic (example consumer)")
    parser.add_argument("topic", help="e.g. discogs.releases (the configured topic prefix is added)")
    parser.add_argument("--from-beginning", action="store_true")
    parser.add_argument("--max", type=int, default=None, help="stop after this many messages")
    parser.add_argument("--idle-timeout", type=float, default=None, help="stop after this many idle seconds")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    topic = settings.topics.prefix + args.topic
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,  # no commits: tailing never disturbs real consumers
        auto_offset_reset="earliest" if args.from_beginning else "latest",
        enable_auto_commit=False,
        consumer_timeout_ms=int(args.idle_timeout * 1000) if args.idle_timeout else float("inf"),
        # A mistyped name must not create a topic in the cluster (the broker may allow it).
        allow_auto_create_topics=False,
    )
    seen = 0
    try:
        topics = consumer.topics()
        if topic not in topics:
            known = ", ".join(sorted(t for t in topics if not t.startswith("_")))
            print(f"dataget tail: no topic {topic}; the cluster has {known or 'none'}", file=sys.stderr)
            return 2
        consumer.subscribe([topic])
        for message in consumer:
            print(format_message(message.key, message.value, message.headers), flush=True)
            seen += 1
            if args.max is not None and seen >= args.max:
                break
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    return 0
