"""A local imitation of data.discogs.com: the year listings, `?download=` files, and switchable failures.

Listing pages copy the real `<pre>` table rows (Last Modified, Size, link). Failures are queued per file name
(`"listing"` for listing pages) and each request for that name takes the next one.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

DUMP_TYPES = ("artists", "labels", "masters", "releases")


@dataclass(frozen=True)
class Fault:
    status: int = 0  # answer with this status instead of the file
    headers: dict[str, str] = field(default_factory=dict)
    cut_at: int | None = None  # send this many body bytes of a full Content-Length, then drop the connection
    corrupt: bool = False  # send other bytes than the CHECKSUM describes


def rate_limited(retry_after: str) -> Fault:
    return Fault(status=429, headers={"Retry-After": retry_after})


def server_error(status: int = 503) -> Fault:
    return Fault(status=status)


def cut(at: int) -> Fault:
    return Fault(cut_at=at)


def corrupt() -> Fault:
    return Fault(corrupt=True)


def dump_file(dump_id: str, kind: str, version: int = 1) -> bytes:
    """A small gzipped XML file, a few KB so a transfer can be cut in the middle of it."""
    rows = "".join(f'<{kind[:-1]} id="{i}"><name>{kind} {i} v{version}</name></{kind[:-1]}>' for i in range(200))
    return gzip.compress(f"<{kind}>{rows}</{kind}>".encode(), mtime=0, compresslevel=0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key_of(name: str) -> str:
    return f"data/{name.split('_')[1][:4]}/{name}"


class FakeDumpSite:
    def __init__(self, *, redirect: bool = False) -> None:
        self.redirect = redirect  # serve ?download= as a 302 to /object/{key}, as a storage proxy would
        self.files: dict[str, bytes] = {}  # by name
        self.modified: dict[str, str] = {}
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.requests: list[tuple[str, str]] = []  # (path with query, User-Agent)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # A short poll interval: shutdown() waits up to one interval, per test.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/"

    def __enter__(self) -> FakeDumpSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- content ---
    def add_dump(self, dump_id: str, types: tuple[str, ...] = DUMP_TYPES, *, checksum: bool = True) -> None:
        for kind in types:
            self.put(f"discogs_{dump_id}_{kind}.xml.gz", dump_file(dump_id, kind))
        if checksum:
            self.write_checksum(dump_id)

    def put(self, name: str, data: bytes, modified: str | None = None) -> None:
        with self._lock:
            self.files[name] = data
            self.modified[name] = modified or f"{name.split('_')[1][:4]}-{name.split('_')[1][4:6]}-15 12:00:00"

    def write_checksum(self, dump_id: str, wrong: tuple[str, ...] = ()) -> None:
        """The CHECKSUM of the dump's files as they are now; names in `wrong` get a hash that matches nothing."""
        prefix = f"discogs_{dump_id}_"
        names = sorted(n for n in self.files if n.startswith(prefix) and n.endswith(".xml.gz"))
        lines = "".join(f"{'0' * 64 if n in wrong else sha256(self.files[n])} {n}\n" for n in names)
        self.put(f"{prefix}CHECKSUM.txt", lines.encode())

    def replace(self, dump_id: str, kind: str, version: int = 2) -> bytes:
        """Re-upload one file with new content and a new CHECKSUM, as Discogs sometimes does."""
        data = dump_file(dump_id, kind, version)
        self.put(f"discogs_{dump_id}_{kind}.xml.gz", data)
        self.write_checksum(dump_id)
        return data

    def fail(self, name: str, *faults: Fault) -> None:
        with self._lock:
            self.faults[name].extend(faults)

    def downloads(self, name: str) -> int:
        """How many requests asked for this file."""
        return sum(1 for path, _ in self.requests if quote(name) in path and "download=" in path)

    # --- pages ---
    def root_page(self) -> str:
        years = sorted({key_of(n).split("/")[1] for n in self.files})
        rows = "".join(f'{"":32}-{"":14}<a href="?prefix=data%2F{y}%2F">{y}/</a>\n' for y in years)
        return f"<html><body><h2>Discogs Data</h2><pre>{_HEADER}{rows}</pre></body></html>"

    def year_page(self, year: str) -> str:
        rows = "".join(
            f"{self.modified[n]:<32}{len(self.files[n])} B{'':10}"
            f'<a href="?download={quote(key_of(n), safe="")}">{n}</a>\n'
            for n in sorted(self.files) if key_of(n).split("/")[1] == year
        )
        up = f'{"":47}<a href="?prefix=data%2F">../</a>\n'
        return f"<html><body><h2>Discogs Data</h2><pre>{_HEADER}{up}{rows}</pre></body></html>"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                site.requests.append((self.path, self.headers.get("User-Agent", "")))
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if parts.path.startswith("/object/"):
                    self._file(parts.path.removeprefix("/object/"))
                elif "download" in query:
                    key = query["download"][0]
                    if site.redirect:
                        self.send_response(302)
                        self.send_header("Location", f"/object/{key}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    else:
                        self._file(key)
                elif self._fault("listing") is None:
                    prefix = query.get("prefix", [""])[0]
                    year = prefix.removeprefix("data/").strip("/")
                    page = site.year_page(year) if year else site.root_page()
                    self._send(200, page.encode(), "text/html")

            def _fault(self, name: str) -> Fault | None:
                with site._lock:
                    fault = site.faults[name].popleft() if site.faults[name] else None
                if fault is not None and fault.status:
                    self._send(fault.status, b"slow down" if fault.status == 429 else b"oops", "text/plain",
                               fault.headers)
                return fault

            def _file(self, key: str) -> None:
                name = key.rsplit("/", 1)[-1]
                with site._lock:
                    data = site.files.get(name) if key == key_of(name) else None
                if data is None:
                    self._send(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
                    return
                fault = self._fault(name)
                if fault is not None and fault.status:
                    return
                if fault is not None and fault.corrupt:
                    data = bytes(reversed(data))
                if fault is not None and fault.cut_at is not None:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: fault.cut_at])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._send(200, data, "application/octet-stream")

            def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        return Handler


_HEADER = "Last Modified                   Size           Name\n" + "-" * 95 + "\n"
