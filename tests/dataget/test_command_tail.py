"""`dataget tail`, the example consumer: what it prints, and that a mistyped topic is an error, not a new topic."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kafka import KafkaAdminClient

from dataget.commands.tail import format_message
from producers.publisher import Publisher
from runtime.settings import Settings, settings_env
from runtime.topic_admin import ensure_topics


def test_a_message_is_its_key_headers_and_compact_json() -> None:
    line = format_message(b"7", b'{"id": 7, "title": "Seven"}', [("dump_version", b"20260101")])
    assert line == '7\tdump_version=20260101\t{"id":7,"title":"Seven"}'


def test_a_tombstone_prints_null() -> None:
    assert format_message(b"7", None, []) == "7\t\tnull"


def tail(dataget_bin: Path, settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(dataget_bin), "tail", *args], env={**settings_env(settings), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)


def test_tail_prints_a_topics_messages_from_the_beginning(isolated_settings: Settings, dataget_bin: Path) -> None:
    ensure_topics(isolated_settings)
    publisher = Publisher(isolated_settings)
    publisher.send(isolated_settings.topics.entity("labels"), "1", b'{"id":1,"name":"Planet E"}')
    publisher.send(isolated_settings.topics.entity("labels"), "1", None)
    publisher.checkpoint()
    publisher.close()
    done = tail(dataget_bin, isolated_settings, "discogs.labels", "--from-beginning", "--max", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ['1\t\t{"id":1,"name":"Planet E"}', "1\t\tnull"]


def test_a_mistyped_topic_is_an_error_and_creates_nothing(isolated_settings: Settings, dataget_bin: Path) -> None:
    ensure_topics(isolated_settings)
    done = tail(dataget_bin, isolated_settings, "discogs.relaeses")
    assert done.returncode == 2
    assert f"no topic {isolated_settings.topics.prefix}discogs.relaeses" in done.stderr
    assert isolated_settings.topics.entity("releases") in done.stderr  # the topics it could have meant
    admin = KafkaAdminClient(bootstrap_servers=isolated_settings.kafka_bootstrap)
    try:
        assert f"{isolated_settings.topics.prefix}discogs.relaeses" not in admin.list_topics()
    finally:
        admin.close()


def test_a_reader_that_goes_away_ends_tail_quietly(isolated_settings: Settings, dataget_bin: Path) -> None:
    ensure_topics(isolated_settings)
    publisher = Publisher(isolated_settings)
    for n in range(1, 3001):  # ~100 KB of lines: more than a pipe holds
        publisher.send(isolated_settings.topics.entity("labels"), str(n), b'{"id":%d,"name":"%s"}' % (n, b"x" * 20))
    publisher.checkpoint()
    publisher.close()
    reader = subprocess.Popen([str(dataget_bin), "tail", "discogs.labels", "--from-beginning", "--idle-timeout", "5"],
                              env={**settings_env(isolated_settings), "PATH": "/usr/bin:/bin"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    assert b"\t{\"id\":" in reader.stdout.readline()
    reader.stdout.close()  # like `dataget tail ... | head -1`
    assert reader.wait(timeout=60) == 0
    assert b"Traceback" not in reader.stderr.read()
