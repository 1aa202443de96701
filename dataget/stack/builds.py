"""Build (or reuse) the server binaries: Kafka jars via Maven, FerretDB via Go. Cached by input hash."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from dataget.stack.process import StackError

REPO_STACK = Path(__file__).resolve().parents[2] / "stack"


def _inputs_hash(*files: Path) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(argv: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise StackError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def _cached(stamp: Path, digest: str, product: Path) -> bool:
    return product.exists() and stamp.exists() and stamp.read_text() == digest


def kafka_libs(build_dir: Path) -> Path:
    """The folder of Kafka broker jars, collected by Maven into build_dir (kept across runs in ~/.m2)."""
    pom = REPO_STACK / "kafka" / "pom.xml"
    out = build_dir / "kafka"
    libs = out / "kafka-libs"
    stamp = out / "inputs.sha256"
    digest = _inputs_hash(pom)
    if _cached(stamp, digest, libs):
        return libs
    if shutil.which("mvn") is None:
        raise StackError("mvn not found: run `make setup` (installs Maven and Java)")
    shutil.rmtree(out, ignore_errors=True)
    _run(["mvn", "-q", "-B", "-f", str(pom), f"-Dkafka.libs.dir={libs}", "package"],
         cwd=pom.parent, what="Maven build of the Kafka jars")
    if not any(libs.glob("kafka_2.13-*.jar")):
        raise StackError(f"Maven finished but no kafka_2.13 jar is in {libs}")
    stamp.write_text(digest)
    return libs


def ferretdb_binary(build_dir: Path) -> Path:
    """The FerretDB v1 binary, built from the wrapper module in stack/ferretdb (Go build cache makes rebuilds fast)."""
    src = REPO_STACK / "ferretdb"
    out = build_dir / "ferretdb"
    binary = out / "ferretdb"
    stamp = out / "inputs.sha256"
    digest = _inputs_hash(src / "go.mod", src / "go.sum", src / "main.go")
    if _cached(stamp, digest, binary):
        return binary
    if shutil.which("go") is None:
        raise StackError("go not found: run `make setup`")
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0"}
    _run(["go", "build", "-o", str(binary), "."], cwd=src, what="Go build of FerretDB", env=env)
    stamp.write_text(digest)
    return binary


def redis_roaring_module(build_dir: Path) -> Path:
    """The roaring-bitmap Redis module (stack/redis_roaring), built by cargo; a prototype the stack does not load."""
    src = REPO_STACK / "redis_roaring"
    out = build_dir / "redis_roaring"
    module = out / "libredis_roaring.so"
    stamp = out / "inputs.sha256"
    digest = _inputs_hash(src / "Cargo.toml", src / "Cargo.lock", *sorted((src / "src").glob("*.rs")))
    if _cached(stamp, digest, module):
        return module
    if shutil.which("cargo") is None:
        raise StackError("cargo not found: install Rust (rustup)")
    target = out / "target"
    _run(["cargo", "build", "--release", "--locked", "--target-dir", str(target)], cwd=src,
         what="cargo build of the roaring Redis module (its bindgen needs libclang: apt-get install libclang-dev)")
    # Replaced by rename: a redis-server that has the old file loaded keeps its mapping intact.
    staged = out / "libredis_roaring.so.new"
    shutil.copy(target / "release" / "libredis_roaring.so", staged)  # with its execute bits: Redis checks them
    os.replace(staged, module)
    stamp.write_text(digest)
    return module
