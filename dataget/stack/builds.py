"""Build (or reuse) the server binaries: Kafka jars via Maven, FerretDB via Go, the roaring Redis module via
cargo. Cached by input hash."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
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


def _built(product: Path, inputs: list[Path], tool: str, missing: str, build: Callable[[], None]) -> Path:
    """product, made by `build` unless it exists and was made from these inputs (their hash is kept beside it)."""
    stamp = product.parent / "inputs.sha256"
    digest = _inputs_hash(*inputs)
    if product.exists() and stamp.exists() and stamp.read_text() == digest:
        return product
    if shutil.which(tool) is None:
        raise StackError(missing)
    build()
    stamp.write_text(digest)
    return product


def kafka_libs(build_dir: Path) -> Path:
    """The folder of Kafka broker jars, collected by Maven into build_dir (kept across runs in ~/.m2)."""
    pom = REPO_STACK / "kafka" / "pom.xml"
    out = build_dir / "kafka"
    libs = out / "kafka-libs"

    def build() -> None:
        shutil.rmtree(out, ignore_errors=True)
        _run(["mvn", "-q", "-B", "-f", str(pom), f"-Dkafka.libs.dir={libs}", "package"],
             cwd=pom.parent, what="Maven build of the Kafka jars")
        if not any(libs.glob("kafka_2.13-*.jar")):
            raise StackError(f"Maven finished but no kafka_2.13 jar is in {libs}")

    return _built(libs, [pom], "mvn", "mvn not found: run `make setup` (installs Maven and Java)", build)


def ferretdb_binary(build_dir: Path) -> Path:
    """The FerretDB v1 binary, built from the wrapper module in stack/ferretdb (Go build cache makes rebuilds fast)."""
    src = REPO_STACK / "ferretdb"
    out = build_dir / "ferretdb"
    binary = out / "ferretdb"

    def build() -> None:
        out.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "CGO_ENABLED": "0"}
        _run(["go", "build", "-o", str(binary), "."], cwd=src, what="Go build of FerretDB", env=env)

    return _built(binary, [src / "go.mod", src / "go.sum", src / "main.go"], "go", "go not found: run `make setup`",
                  build)


def redis_roaring_module(build_dir: Path) -> Path:
    """The roaring-bitmap Redis module (stack/redis_roaring), built by cargo; every Redis the stack starts loads it."""
    src = REPO_STACK / "redis_roaring"
    out = build_dir / "redis_roaring"
    module = out / "libredis_roaring.so"

    def build() -> None:
        target = out / "target"
        _run(["cargo", "build", "--release", "--locked", "--target-dir", str(target)], cwd=src,
             what="cargo build of the roaring Redis module (its bindgen needs libclang: apt-get install libclang-dev)")
        # Replaced by rename: a redis-server that has the old file loaded keeps its mapping intact.
        staged = out / "libredis_roaring.so.new"
        shutil.copy(target / "release" / "libredis_roaring.so", staged)  # with its execute bits: Redis checks them
        os.replace(staged, module)

    inputs = [src / "Cargo.toml", src / "Cargo.lock", *sorted((src / "src").glob("*.rs"))]
    return _built(module, inputs, "cargo", "cargo not found: install Rust (rustup)", build)
