"""Types of the entity records on the `discogs.<entity>` topics, exactly as producers.records.to_record builds them.

Every key is always present. `None` means absent, empty or whitespace-only in the dump; foreign ids of 0
(unlinked credit, release without master) are None too. The JSON Schema files are generated from these types
(`python -m schemas.generate`).
"""

from __future__ import annotations

# pydantic (which builds the JSON Schemas) needs typing_extensions' TypedDict on Python < 3.12.
from typing_extensions import TypedDict


class Credit(TypedDict):
    """An artist credit (release/track/master artists and extraartists)."""

    id: int | None
    name: str | None
    anv: str | None
    join: str | None
    role: str | None
    tracks: str | None


class LabelRef(TypedDict):
    """A release's label or series entry; the id is a label id."""

    id: int | None
    name: str | None
    catno: str | None


class NameRef(TypedDict):
    """A linked name: artist aliases, members, groups; label sublabels and parent label."""

    id: int | None
    name: str | None


class Track(TypedDict):
    position: str | None
    title: str | None
    duration: str | None
    artists: list[Credit]
    extraartists: list[Credit]
    sub_tracks: list[Track]


class Video(TypedDict):
    src: str | None
    youtube_id: str | None
    duration: int | None
    embed: bool | None
    title: str | None
    description: str | None


class Image(TypedDict):
    type: str | None
    uri: str | None
    uri150: str | None
    width: int | None
    height: int | None


class Format(TypedDict):
    name: str | None
    qty: str | None
    text: str | None
    descriptions: list[str]


class Identifier(TypedDict):
    type: str | None
    description: str | None
    value: str | None


class Company(TypedDict):
    id: int | None
    name: str | None
    catno: str | None
    entity_type: int | None
    entity_type_name: str | None
    resource_url: str | None


class Release(TypedDict):
    id: int
    status: str | None
    title: str | None
    artists: list[Credit]
    extraartists: list[Credit]
    labels: list[LabelRef]
    series: list[LabelRef]
    formats: list[Format]
    genres: list[str]
    styles: list[str]
    country: str | None
    released: str | None
    year: int | None
    month: int | None
    day: int | None
    notes: str | None
    data_quality: str | None
    master_id: int | None
    is_main_release: bool | None
    tracklist: list[Track]
    identifiers: list[Identifier]
    videos: list[Video]
    companies: list[Company]
    images: list[Image]


class Master(TypedDict):
    id: int
    main_release: int | None
    artists: list[Credit]
    genres: list[str]
    styles: list[str]
    notes: str | None
    year: int | None
    title: str | None
    data_quality: str | None
    videos: list[Video]
    images: list[Image]


class Artist(TypedDict):
    id: int
    name: str | None
    realname: str | None
    profile: str | None
    data_quality: str | None
    urls: list[str]
    namevariations: list[str]
    aliases: list[NameRef]
    members: list[NameRef]
    groups: list[NameRef]
    images: list[Image]


class Label(TypedDict):
    id: int
    name: str | None
    contactinfo: str | None
    profile: str | None
    data_quality: str | None
    parent_label: NameRef | None
    urls: list[str]
    sublabels: list[NameRef]
    images: list[Image]


# A record of any of the four entity topics; which one is known from the topic it travels on.
Record = Release | Master | Artist | Label

ENTITY_TYPES: dict[str, type] = {"releases": Release, "masters": Master, "artists": Artist, "labels": Label}
