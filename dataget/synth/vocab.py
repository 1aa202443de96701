"""Vocabulary for `dataget synth`: value lists with Zipf-like weights taken from the real dump samples.

Each weighted list is a `Weighted` (values + cumulative weights) so a draw costs one `random()` and one bisect.
"""

from __future__ import annotations

from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Weighted(Generic[T]):
    values: tuple[T, ...]
    cum: tuple[float, ...]

    @classmethod
    def of(cls, pairs: Sequence[tuple[T, float]]) -> Weighted[T]:
        return cls(tuple(v for v, _ in pairs), tuple(accumulate(w for _, w in pairs)))

    def pick(self, rand: Callable[[], float]) -> T:
        return self.values[bisect(self.cum, rand() * self.cum[-1])]


# Weights from the philipmat 20200806 releases sample (genre/style/country/format counts), rounded.
GENRES = Weighted.of([
    ("Electronic", 300), ("Rock", 330), ("Pop", 180), ("Folk, World, & Country", 110), ("Jazz", 65),
    ("Classical", 65), ("Funk / Soul", 52), ("Hip Hop", 43), ("Stage & Screen", 36), ("Latin", 30),
    ("Blues", 24), ("Reggae", 19), ("Non-Music", 11), ("Children's", 10), ("Brass & Military", 2),
])
STYLES: dict[str, tuple[str, ...]] = {
    "Electronic": ("House", "Techno", "Deep House", "Tech House", "Experimental", "Synth-pop", "Electro",
                   "Ambient", "Downtempo", "Trance", "Drum n Bass", "Disco", "Euro House", "IDM", "Industrial",
                   "Progressive House", "Minimal", "Dubstep", "Breakbeat", "Abstract"),
    "Rock": ("Pop Rock", "Alternative Rock", "Punk", "Indie Rock", "Hard Rock", "Heavy Metal", "Classic Rock",
             "Hardcore", "Psychedelic Rock", "Garage Rock", "Prog Rock", "Black Metal", "New Wave", "Rock & Roll",
             "Post-Punk", "Shoegaze", "Death Metal", "Noise"),
    "Pop": ("Ballad", "Vocal", "Synth-pop", "Chanson", "Europop", "Schlager", "J-pop", "Indie Pop", "Italo-Disco"),
    "Folk, World, & Country": ("Country", "Folk", "African", "Celtic", "Bluegrass", "Flamenco", "Polka", "Fado"),
    "Jazz": ("Soul-Jazz", "Hard Bop", "Free Jazz", "Fusion", "Bop", "Swing", "Contemporary Jazz", "Big Band"),
    "Classical": ("Romantic", "Baroque", "Modern", "Classical", "Contemporary", "Opera", "Choral"),
    "Funk / Soul": ("Soul", "Funk", "Disco", "Rhythm & Blues", "Neo Soul", "Gospel"),
    "Hip Hop": ("Boom Bap", "Conscious", "Gangsta", "Trap", "Instrumental", "Trip Hop"),
    "Stage & Screen": ("Soundtrack", "Score", "Musical", "Theme"),
    "Latin": ("Salsa", "Cumbia", "Bossa Nova", "Samba", "Bolero", "Reggaeton"),
    "Blues": ("Chicago Blues", "Electric Blues", "Delta Blues", "Rhythm & Blues"),
    "Reggae": ("Roots Reggae", "Dub", "Dancehall", "Ska", "Rocksteady"),
    "Non-Music": ("Field Recording", "Spoken Word", "Comedy", "Interview"),
    "Children's": ("Nursery Rhymes", "Story", "Educational"),
    "Brass & Military": ("Marches", "Brass Band", "Military"),
}
COUNTRIES = Weighted.of([
    ("US", 235), ("UK", 120), ("Germany", 90), ("Japan", 57), ("France", 45), ("Italy", 44), ("Canada", 40),
    ("Netherlands", 39), ("Spain", 31), ("Russia", 31), ("Europe", 24), ("Australia", 21), ("Sweden", 19),
    ("Poland", 17), ("Brazil", 12), ("Norway", 12), ("Greece", 12), ("Belgium", 10), ("Switzerland", 10),
    ("UK & Europe", 8), ("Czechoslovakia", 8), ("Denmark", 7), ("Yugoslavia", 6), ("Israel", 6), ("Ukraine", 6),
    ("Jamaica", 5), ("Austria", 5), ("Nigeria", 5), ("Mexico", 5), ("Finland", 4), ("Iceland", 3),
    ("Worldwide", 3), ("Unknown", 2),
])
# name -> (weight, descriptions drawn from, digital?)
FORMATS: dict[str, tuple[float, tuple[str, ...]]] = {
    "Vinyl": (500, ('LP', '12"', '7"', "Album", "Single", "EP", "33 ⅓ RPM", "45 RPM", "Reissue", "Stereo",
                    "Promo", "Limited Edition", "Mono", "White Label", "10\"", "Repress")),
    "CD": (285, ("Album", "Compilation", "Single", "Maxi-Single", "Enhanced", "Remastered", "Promo",
                 "Limited Edition", "Mini-Album")),
    "File": (90, ("MP3", "FLAC", "WAV", "AAC", "Album", "Single", "EP", "320 kbps", "24-bit")),
    "Cassette": (75, ("Album", "Compilation", "Single", "Unofficial Release", "Stereo")),
    "CDr": (30, ("Album", "Promo", "Mixed", "Unofficial Release")),
    "Box Set": (12, ("Compilation", "Limited Edition", "Numbered")),
    "DVD": (11, ("DVD-Video", "NTSC", "PAL")),
    "Shellac": (9, ('10"', "78 RPM")),
    "All Media": (5, ("Compilation", "Album")),
}
FORMAT_NAMES = Weighted.of([(name, w) for name, (w, _) in FORMATS.items()])
DATA_QUALITY = Weighted.of([
    ("Needs Vote", 45), ("Correct", 40), ("Complete and Correct", 8), ("Needs Minor Changes", 5),
    ("Needs Major Changes", 2),
])
JOINS = Weighted.of([
    (",", 200), ("&", 75), ("Feat.", 44), ("/", 37), ("And", 34), ("With", 19), ("Featuring", 15),
    ("vs.", 8), ("•", 5), ("Presents", 3), ("=", 2),
])
ROLES = Weighted.of([
    ("Written-By", 2050), ("Producer", 540), ("Composed By", 240), ("Vocals", 225), ("Music By", 220),
    ("Remix", 216), ("Lyrics By", 208), ("Guitar", 199), ("Drums", 168), ("Bass", 141), ("Mastered By", 129),
    ("Lead Vocals", 125), ("Engineer", 121), ("Featuring", 119), ("Arranged By", 115), ("Mixed By", 113),
    ("Backing Vocals", 108), ("Piano", 103), ("Recorded By", 96), ("Photography By", 68),
    ("Engineer [Assistant]", 41), ("Producer, Written-By", 35), ("Liner Notes", 33),
    ("Art Direction, Design", 25), ("Strings, Arranged By [Strings]", 10), ("Lacquer Cut By", 20),
])
IDENTIFIER_TYPES = Weighted.of([
    ("Matrix / Runout", 700), ("Barcode", 330), ("Rights Society", 220), ("Other", 110), ("Label Code", 83),
    ("Mastering SID Code", 62), ("Mould SID Code", 62), ("Price Code", 22), ("SPARS Code", 14), ("ISRC", 7),
    ("Depósito Legal", 3), ("ASIN", 2),
])
IDENTIFIER_DESCRIPTIONS = ("", "", "", "Text", "Scanned", "Side A", "Side B", "CD1", "Variant 1", "Stamped")
RIGHTS_SOCIETIES = ("GEMA", "BIEM", "ASCAP", "BMI", "SACEM", "JASRAC", "STEMRA", "MCPS", "SGAE", "ZAiKS")
COMPANY_TYPES = (
    (13, "Phonographic Copyright (p)"), (14, "Copyright (c)"), (10, "Manufactured By"), (9, "Distributed By"),
    (21, "Published By"), (17, "Pressed By"), (29, "Mastered At"), (23, "Recorded At"), (27, "Mixed At"),
    (4, "Record Company"), (5, "Licensed To"), (8, "Marketed By"), (30, "Lacquer Cut At"), (33, "Designed At"),
    (31, "Glass Mastered At"), (19, "Printed By"),
)
# Weighted so the 1990s-2010s dominate, like the real catalogue.
DECADES = Weighted.of([
    ("1950", 2), ("1960", 5), ("1970", 9), ("1980", 13), ("1990", 20), ("2000", 22), ("2010", 20), ("2020", 9),
])

FIRST_NAMES = (
    "John", "Paul", "Maria", "Anna", "David", "Michael", "Peter", "Laura", "Thomas", "Sarah", "James", "Julia",
    "Daniel", "Eva", "Carlos", "Sofia", "Kenji", "Yuki", "Olga", "Ivan", "Lars", "Ingrid", "Jean", "Chloé",
    "François", "Jörg", "Jürgen", "Søren", "Zoë", "Ángel", "José", "Mónica", "Páll", "Daníel", "Łukasz",
    "Dvořák", "Renée", "Björn", "Ólafur", "Nuno", "Aleksandr", "Fatima", "Ali", "Chen", "Hiroshi", "Amadou",
)
LAST_NAMES = (
    "Smith", "Johnson", "Müller", "Schmidt", "Brown", "Jones", "Garcia", "Rossi", "Dubois", "Martin", "Novak",
    "Kowalski", "Andersson", "Nielsen", "Tanaka", "Suzuki", "Ivanov", "Petrov", "O'Brien", "Nakamura",
    "Gómez", "Sánchez", "Jónsson", "Håkansson", "Öztürk", "Lefèvre", "Weiß", "Černý", "Gardarsson",
    "Williams", "Taylor", "Clarke", "Wilder", "Gore", "Hackl", "Legowitz", "Bell", "Thomas", "Young",
)
# Famous non-ASCII acts, used as-is for a few low (popular) artist slots.
FAMOUS = (
    "Björk", "Motörhead", "Sigur Rós", "坂本龍一", "Mötley Crüe", "Röyksopp", "Amon Düül II", "Blue Öyster Cult",
    "Hüsker Dü", "Ólafur Arnalds", "久石譲", "Кино", "Mano Negra", "Stereolab", "Café Tacvba", "Los Lobos",
    "Die Ärzte", "Einstürzende Neubauten", "Kraftwerk", "Depeche Mode", "GusGus", "Émilie Simon", "Ελένη Καραΐνδρου",
    "Mylène Farmer", "Queensrÿche", "Beyoncé", "Moderat", "Ryōji Ikeda", "Sinéad O'Connor", "Daft Punk",
)
WORDS = (
    "Love", "Night", "Dream", "Blue", "Fire", "Heart", "Time", "Light", "Dark", "Soul", "City", "Rain", "Sun",
    "Moon", "Star", "Shadow", "Silence", "Echo", "Ocean", "River", "Golden", "Electric", "Midnight", "Summer",
    "Winter", "Violet", "Crystal", "Broken", "Wild", "Lost", "Sweet", "Cold", "Machine", "Paradise", "Dance",
    "Glass", "Empire", "Secret", "Velvet", "Thunder", "Spirit", "Motion", "Signal", "Frequency", "Horizon",
    "Über", "Straße", "Noël", "Café", "Señor", "Fiesta", "Sakura", "東京", "Мечта", "Été", "Ångström", "Tränen",
    "Polyester", "Policy", "Truth", "Enjoy", "Clean", "World", "Eyes", "Jungle", "Taboo", "Purple", "Believe",
)
BAND_NOUNS = (
    "Orchestra", "Collective", "Project", "Brothers", "Sisters", "Band", "Quartet", "Trio", "Experience",
    "Machine", "Sound System", "Ensemble", "Allstars", "Crew", "Family",
)
TITLE_SUFFIXES = (
    "", "", "", "", "", "", " (Remix)", " (Edit)", " (Original Mix)", " (Live)", " (Extended Version)",
    " (Dub)", " (Radio Edit)", " (Instrumental)", " Part II", " '79", "?", "!",
)
LABEL_SUFFIXES = (
    " Records", " Records", " Recordings", " Music", " Tonträger", " Disques", " Sounds", " Productions",
    " Audio", " Label", " Schallplatten", " Discos", " レコード", "",
)
VIDEO_TITLE_SUFFIXES = (
    "", " (Official Video)", " (Official Audio)", " [HD]", " (Live)", " (Full Album)", " - 1997", " (Remastered)",
)
VIDEO_DESCRIPTIONS = (
    "Music video by {a} performing {t}.",
    "{a} - {t}\r\nTaken from the album on {l}.\r\nBuy: https://example.lnk.to/{w}",
    "Official video for “{t}” by {a}\nListen to {a}: https://{w}.lnk.to/listenYD\n\nSubscribe: https",
    "{t} ({y})",
    "Provided to YouTube by {l}\n\n{t} · {a}\n\n℗ {y} {l}\n\nReleased on: {y}-01-01\n\nAuto-generated by YouTube.",
    "Uploaded by a fan. No copyright infringement intended. All rights belong to {l} & {a}.",
)
NOTES = (
    "Recorded at {l} Studios, {y}.",
    "℗ {y} {l} © {y} {l}\nMade in Germany.",
    "<b>Live at the Forum, London, {y}</b>",
    "Tracks A1 to B2 written by [a={a}].\r\nMastered at [l={l}].",
    "Limited edition of 500 copies on <i>transparent blue</i> vinyl.",
    "Includes download code. See [url=https://www.discogs.com/label/{w}]{l}[/url] for more.",
    "All tracks © {y} {l}.\r\n\r\nManufactured in the EU.\r\nDistributed by {l} & Co.",
    "Originally released as a cassette in {y}. Reissue with \"bonus\" tracks.",
    'Cover art by <a href="https://example.org/{w}">{a}</a>. Same artwork as [r{n}].',
)
ARTIST_PROFILES = (
    "Musician and producer from {c}.",
    "Founded in {y} in {c}.\r\nCo-founded [l={l}] with [a={a}].",
    "Electronic music producer. Also recorded as [a={a}].\r\n\r\nBorn {y}.",
    "<b>Do not confuse</b> with [a={a}].",
    "Session player, worked with [a={a}] and [a{n}].",
)
LABEL_PROFILES = (
    "Independent label from {c}, active since {y}. Label Code: LC {n}.",
    "A [l={l}] company.\r\nFor releases of [a={a}] see [url=https://www.discogs.com/label/{n}]here[/url].",
    "<b>Do not confuse</b> with [l={l}].",
    "Pressing plant and studio in {c}.\r\n\r\n(obsolete)",
)
