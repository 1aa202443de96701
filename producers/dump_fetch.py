"""Download one dump into `{out}/{YYYYMMDD}/`, verified against its CHECKSUM, skipping files already verified.

Each file streams into a hidden `.{name}.part`, hashed on the way, and is renamed only when its SHA-256 matches.
The local `discogs_{id}_CHECKSUM.txt` beside the files lists exactly the files verified so far (Discogs' format:
hash, one space, name), so it is both the "already verified" record and what `dataget ingest` reads for file hashes.
A file re-uploaded under the same name shows up as a changed line in the remote CHECKSUM and is fetched again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx

from producers.dump_discovery import CHECKSUM, download_url, file_name, is_dump_id
from producers.dump_http import DumpSiteError, Fetcher
from runtime.progress import progress

log = logging.getLogger(__name__)
CHECKSUM_ATTEMPTS = 3  # downloads of one file whose hash mismatches, re-reading the CHECKSUM before each retry


class ChecksumMismatch(Exception):
    def __init__(self, name: str, got: str, expected: str) -> None:
        super().__init__(f"{name}: SHA-256 {got} but CHECKSUM says {expected}")


def parse_checksums(text: str) -> dict[str, str]:
    """{file name: sha256} from CHECKSUM text; tolerates sha256sum's two spaces and `*` binary marker."""
    sums = {}
    for line in text.splitlines():
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and len(parts[0]) == 64:
            sums[parts[1].strip().lstrip("*")] = parts[0].lower()
    return sums


def dump_dir(out: Path, dump_id: str) -> Path:
    return out / dump_id


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def verified_hashes(out: Path, dump_id: str) -> dict[str, str]:
    """The files of a dump verified earlier and still present, with their hashes."""
    directory = dump_dir(out, dump_id)
    record = directory / file_name(dump_id, CHECKSUM)
    if not record.is_file():
        return {}
    return {n: h for n, h in parse_checksums(record.read_text()).items() if (directory / n).is_file()}


def _record_verified(out: Path, dump_id: str, name: str, digest: str) -> None:
    sums = verified_hashes(out, dump_id) | {name: digest}
    text = "".join(f"{sums[n]} {n}\n" for n in sorted(sums))
    _write_atomically(dump_dir(out, dump_id) / file_name(dump_id, CHECKSUM), text.encode())


def latest_verified(out: Path, types: Iterable[str]) -> str | None:
    """The newest dump in `out` whose requested types are all verified."""
    if not out.is_dir():
        return None
    types = tuple(types)
    for dump_id in sorted((p.name for p in out.iterdir() if p.is_dir() and is_dump_id(p.name)), reverse=True):
        have = verified_hashes(out, dump_id)
        if all(file_name(dump_id, t) in have for t in types):
            return dump_id
    return None


@dataclass(frozen=True)
class Plan:
    dump_id: str
    expected: dict[str, str]  # requested type -> sha256 of its file, per the remote CHECKSUM
    todo: tuple[str, ...]  # types still to download (missing, or verified against an older CHECKSUM)

    def paths(self, out: Path) -> list[Path]:
        return [dump_dir(out, self.dump_id) / file_name(self.dump_id, t) for t in self.expected]


class DumpFetcher:
    def __init__(self, fetcher: Fetcher, base_url: str, out: Path) -> None:
        self.fetcher = fetcher
        self.base_url = base_url
        self.out = out

    def remote_checksums(self, dump_id: str) -> dict[str, str]:
        """The dump's CHECKSUM; NotFound when it is not published (yet)."""
        name = file_name(dump_id, CHECKSUM)
        return parse_checksums(self.fetcher.text(download_url(self.base_url, dump_id, CHECKSUM), name))

    def plan(self, dump_id: str, types: Iterable[str]) -> Plan:
        remote = self.remote_checksums(dump_id)
        expected = {}
        for kind in types:
            name = file_name(dump_id, kind)
            if name not in remote:
                raise DumpSiteError(f"{file_name(dump_id, CHECKSUM)}: lists no {name}")
            expected[kind] = remote[name]
        have = verified_hashes(self.out, dump_id)
        todo = tuple(t for t, h in expected.items() if have.get(file_name(dump_id, t)) != h)
        return Plan(dump_id, expected, todo)

    def fetch(self, dump_id: str, types: Iterable[str]) -> list[Path]:
        """Downloads what the plan says is missing; returns the paths of all requested files, verified."""
        plan = self.plan(dump_id, types)
        dump_dir(self.out, dump_id).mkdir(parents=True, exist_ok=True)
        for kind in plan.expected:
            if kind in plan.todo:
                self._fetch_file(dump_id, kind, plan.expected[kind])
            else:
                log.info("%s: already verified", file_name(dump_id, kind))
        return plan.paths(self.out)

    def _fetch_file(self, dump_id: str, kind: str, expected: str) -> None:
        name = file_name(dump_id, kind)
        url = download_url(self.base_url, dump_id, kind)
        dest = dump_dir(self.out, dump_id) / name
        log.info("%s: downloading", name)
        for attempt in range(1, CHECKSUM_ATTEMPTS + 1):
            try:
                self.fetcher.fetch(url, name, partial(_save_verified, dest=dest, expected=expected),
                                   headers={"Accept-Encoding": "identity"})
            except ChecksumMismatch as exc:
                log.warning("%s (download %d/%d)", exc, attempt, CHECKSUM_ATTEMPTS)
                if attempt == CHECKSUM_ATTEMPTS:
                    raise DumpSiteError(f"{exc}, after {CHECKSUM_ATTEMPTS} downloads") from exc
                # The file may have been re-uploaded since the CHECKSUM was read.
                expected = self.remote_checksums(dump_id).get(name, expected)
                continue
            _record_verified(self.out, dump_id, name, expected)
            log.info("%s: verified", name)
            return


def _save_verified(response: httpx.Response, *, dest: Path, expected: str) -> None:
    """Streams the body to `.{name}.part` while hashing; renames onto `dest` only when the hash matches."""
    tmp = dest.with_name(f".{dest.name}.part")
    digest = hashlib.sha256()
    length = response.headers.get("Content-Length")
    written = 0
    try:
        with tmp.open("wb") as fh, progress(dest.name, "B", int(length) if length else None) as advance:
            for chunk in response.iter_raw(1 << 20):  # raw: the file's own bytes, never decoded
                fh.write(chunk)
                digest.update(chunk)
                written += len(chunk)
                advance(written)
        got = digest.hexdigest()
        if got != expected:
            raise ChecksumMismatch(dest.name, got, expected)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
