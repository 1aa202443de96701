"""`dataget status`'s line for a read replica of the index."""

from __future__ import annotations

from dataget.commands.status import replica_state


def test_a_replica_at_the_primarys_offset_is_in_sync() -> None:
    assert replica_state(500, {"master_link_status": "up", "slave_repl_offset": 500}) == "in sync"


def test_a_replica_short_of_the_primarys_offset_says_by_how_much() -> None:
    assert replica_state(500, {"master_link_status": "up", "slave_repl_offset": 380}) == "in sync, 120 bytes behind"


def test_a_replica_without_its_link_says_whether_it_is_syncing() -> None:
    assert replica_state(500, {"master_link_status": "down", "master_sync_in_progress": 1}) == "syncing"
    assert replica_state(500, {"master_link_status": "down", "master_sync_in_progress": 0}) == (
        "link to the primary down")
    assert replica_state(500, None) == "not answering"
