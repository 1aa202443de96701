"""Discogs Dataget: Discogs dumps -> Kafka -> MongoDB/Redis index -> YouTube playlists."""
