from runtime.settings import Settings
from runtime.topic_admin import topic_specs
from schemas.topics import ENTITIES


def test_entity_topics_are_compacted_and_cleaned_within_a_week():
    specs = {spec.name: spec for spec in topic_specs(Settings())}
    for entity in ENTITIES:
        configs = specs[f"discogs.{entity}"].topic_configs
        assert configs["cleanup.policy"] == "compact"
        assert int(configs["max.compaction.lag.ms"]) == 7 * 24 * 3600 * 1000
        assert int(configs["segment.bytes"]) < 1024**3  # Kafka's default segment would never close on a month's churn


def test_control_topics_keep_their_policies():
    specs = {spec.name: spec for spec in topic_specs(Settings())}
    assert specs["playlist.status"].topic_configs == {"cleanup.policy": "compact"}
    assert not specs["discogs.dumps"].topic_configs
