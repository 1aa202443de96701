"""One gzip member written from independently compressed pieces (the pigz technique).

Each piece is raw deflate ending in a sync flush (byte-aligned, not final), the last one with Z_FINISH. Their
concatenation is a single valid deflate stream, so the file is an ordinary single-member gzip, like the real
dumps, while the pieces can be compressed in parallel. The CRC-32 of the whole is combined from the pieces'
CRCs (zlib's crc32_combine, which Python's zlib module does not expose).
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_POLY = 0xEDB88320  # reflected CRC-32 polynomial
# No name, mtime 0 (reproducible bytes), XFL 0, OS 255 (unknown: the bytes don't depend on the platform).
_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


@dataclass(frozen=True)
class Piece:
    deflate: bytes
    crc: int
    size: int  # uncompressed bytes
    records: int


def compress_piece(text: str, records: int, *, level: int, last: bool) -> Piece:
    raw = text.encode()
    comp = zlib.compressobj(level, zlib.DEFLATED, -15)
    data = comp.compress(raw) + comp.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
    return Piece(data, zlib.crc32(raw), len(raw), records)


def _multmodp(a: int, b: int) -> int:
    """a * b modulo the CRC polynomial (bit-reflected), as in zlib's crc32.c."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _x2n_table() -> tuple[int, ...]:
    table = [1 << 30]  # x^1
    for _ in range(31):
        table.append(_multmodp(table[-1], table[-1]))
    return tuple(table)


_X2N = _x2n_table()  # x^(2^k) mod p; a constant table


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of A+B from crc(A), crc(B) and len(B)."""
    p, k, n = 1 << 31, 3, len2  # x^(8 * len2): k starts at 3 because lengths are in bytes
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return _multmodp(p, crc1) ^ crc2


def write_pieces(path: Path, pieces: Iterable[Piece]) -> tuple[int, str]:
    """Write the gzip file (to `<name>.part`, then renamed); returns (records, sha256 hex of the file)."""
    digest = hashlib.sha256(_HEADER)
    crc = size = records = 0
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as out:
        out.write(_HEADER)
        for piece in pieces:
            out.write(piece.deflate)
            digest.update(piece.deflate)
            crc = crc32_combine(crc, piece.crc, piece.size)
            size += piece.size
            records += piece.records
        trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
        out.write(trailer)
        digest.update(trailer)
    os.replace(tmp, path)
    return records, digest.hexdigest()
