"""The three local servers: how each is started on loopback and how we know it really answers."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dataget.stack import builds
from dataget.stack.process import ServerProcess, StackError, port_is_free
from runtime.settings import host_port

KAFKA_CONTROLLER_PORT_OFFSET = 1  # controller listens next to the broker port
ROARING_MODULE = "roaring"  # the name stack/redis_roaring registers (src/module.rs), as MODULE LIST shows it
# The index's video hashes stay listpacks (a few bytes a field, not a hash table's ~60; sinks/facet_index.py): up to
# 512 fields, the ~230 YouTube ids of a vid:* bucket at the full catalogue, and values up to 512 bytes, a 100-character
# YouTube title in any script with its id. Also in docker-compose.yml's redis command.
INDEX_HASH_OPTIONS = ["--hash-max-listpack-entries", "512", "--hash-max-listpack-value", "512"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Service:
    name: str
    host: str
    port: int
    # prepare(stack_dir) builds what is needed and returns the argv to run.
    prepare: Callable[[Path], list[str]]
    probe: Callable[[], bool]
    ready_timeout: float
    # Whether the server, though not ready, is still loading its data: the wait goes on past ready_timeout then.
    loading: Callable[[], bool] | None = None
    # Why the running server must be restarted to match how prepare() starts it now, or None; given its pid when it
    # runs here (None: an external server).
    outdated: Callable[[int | None], str | None] | None = None

    def process(self, stack_dir: Path) -> ServerProcess:
        return ServerProcess(self.name, stack_dir / "run" / f"{self.name}.pid", stack_dir / "logs" / f"{self.name}.log")

    def data_dir(self, stack_dir: Path) -> Path:
        return stack_dir / "data" / self.name

    def start(self, stack_dir: Path) -> bool:
        """Start unless already running and answering, restart if outdated; returns True if it was not running (a
        restarted server was: whoever started it stops it)."""
        proc = self.process(stack_dir)
        if (pid := proc.pid()) is not None:
            proc.wait_ready(self.probe, self.ready_timeout, self.loading)
            reason = self.outdated(pid) if self.outdated else None
            if reason is None:
                return False
            log.warning("%s: restarting it, it is %s", self.name, reason)
            argv = self.prepare(stack_dir)  # before the stop: a failed build leaves the running server alone
            proc.stop()
            proc.start(argv)
            proc.wait_ready(self.probe, self.ready_timeout, self.loading)
            return False
        if not port_is_free(self.host, self.port):
            raise StackError(
                f"{self.name}: port {self.host}:{self.port} is taken by a process this stack did not start; "
                "stop it or point DATAGET_* variables at it"
            )
        proc.start(self.prepare(stack_dir))
        proc.wait_ready(self.probe, self.ready_timeout, self.loading)
        return True

    def restart(self, stack_dir: Path) -> None:
        """Stop the server started here and start it again on its data; returns once it answers (its data loaded)."""
        self.process(stack_dir).stop()
        self.start(stack_dir)


def _redis_argv(stack_dir: Path, build_dir: Path, name: str, host: str, port: int, options: list[str]) -> list[str]:
    """redis-server with the roaring module (built into build_dir, cached) that the index's number sets need."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise StackError("redis-server not found: run `make setup` (apt-get install redis-server)")
    module = builds.redis_roaring_module(build_dir)
    data = stack_dir / "data" / name
    data.mkdir(parents=True, exist_ok=True)
    return [binary, "--port", str(port), "--bind", host, "--dir", str(data), "--save", "", "--daemonize", "no",
            "--protected-mode", "no", "--loadmodule", str(module), *INDEX_HASH_OPTIONS, *options]


def redis_module_outdated(url: str) -> Callable[[int | None], str | None]:
    """Whether the Redis at url runs without the roaring module (MODULE LIST), or, running here as pid, with a build
    of it that a newer one has replaced since."""

    def outdated(pid: int | None) -> str | None:
        import redis

        try:
            modules = redis.Redis.from_url(url, socket_timeout=2).module_list()
        except redis.RedisError:
            return None  # not answering is the probe's to report
        loaded = [module for module in modules if module[b"name"] == ROARING_MODULE.encode()]
        if not loaded:
            return f"running without the {ROARING_MODULE!r} module (MODULE LIST)"
        if pid is not None and _file_replaced(pid, os.fsdecode(loaded[0][b"path"])):
            return f"running a build of the {ROARING_MODULE!r} module that a newer one has replaced"
        return None

    return outdated


def _file_replaced(pid: int, path: str) -> bool:
    """Whether process pid maps path's file as it was before a rename replaced it (builds replace by rename)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return f"{path} (deleted)" in maps


def _redis_memory_options(maxmemory: int | None) -> list[str]:
    """A maxmemory (bytes) that Redis keeps by refusing writes, never by evicting index keys (sinks/redis_memory.py)."""
    return [] if maxmemory is None else ["--maxmemory", str(maxmemory), "--maxmemory-policy", "noeviction"]


def _redis_loading(url: str) -> Callable[[], bool]:
    """Whether Redis is (or was until just now) loading its AOF or a replica's copy, which takes minutes for a big
    index: it answers LOADING, or it accepts the connection and says nothing, as it does while it replays its AOF's
    module commands. A server that answers has just finished (the probe before it timed out): the wait goes on, and
    the next probe sees it."""

    def loading() -> bool:
        import redis

        try:
            redis.Redis.from_url(url, socket_timeout=1).ping()
        except (redis.BusyLoadingError, redis.TimeoutError):
            return True
        except redis.RedisError:
            return False
        return True

    return loading


def redis_service(url: str, build_dir: Path, maxmemory: int | None = None, debug_command: bool = False) -> Service:
    """The index's Redis with the roaring module from build_dir; without maxmemory (bytes) it has none (benchmarks
    measuring memory); debug_command allows DEBUG (RELOAD) from loopback, for the module's persistence tests."""
    host, port = host_port(url, 6379)

    def prepare(stack_dir: Path) -> list[str]:
        # AOF so a restarted Redis keeps the index (the restart test relies on it); Redis' rewrites keep it below about
        # the index's memory (docs/operations.md). A replica gets its copy at once rather than after the 5 s Redis
        # waits for others to share it.
        debug = ["--enable-debug-command", "local"] if debug_command else []
        return _redis_argv(stack_dir, build_dir, "redis", host, port, [
            "--appendonly", "yes", "--appendfsync", "everysec", "--repl-diskless-sync-delay", "0",
            *_redis_memory_options(maxmemory), *debug])

    def probe() -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    return Service("redis", host, port, prepare, probe, 20.0, _redis_loading(url), redis_module_outdated(url))


def redis_replica_service(url: str, primary_url: str, build_dir: Path, maxmemory: int | None = None) -> Service:
    """A read replica of the index's Redis (web/index_pool.py says why these options), with the module too: it loads
    the primary's copy of the module's keys. Ready once in sync. With the primary's maxmemory, queries keep the same
    room for their temporary keys there."""
    host, port = host_port(url, 6379)
    primary_host, primary_port = host_port(primary_url, 6379)
    name = f"redis-replica-{port}"

    def prepare(stack_dir: Path) -> list[str]:
        # No AOF: a restarted replica copies the primary again.
        return _redis_argv(stack_dir, build_dir, name, host, port, [
            "--appendonly", "no", "--replicaof", primary_host, str(primary_port),
            "--replica-read-only", "no", "--replica-serve-stale-data", "no", *_redis_memory_options(maxmemory)])

    def probe() -> bool:
        import redis

        try:
            info = redis.Redis.from_url(url, socket_timeout=1).info("replication")
        except redis.RedisError:
            return False
        return info.get("master_link_status") == "up" and not info.get("master_sync_in_progress")

    return Service(name, host, port, prepare, probe, 60.0, _redis_loading(url), redis_module_outdated(url))


def ferretdb_service(url: str) -> Service:
    host, port = host_port(url, 27017)

    def prepare(stack_dir: Path) -> list[str]:
        binary = builds.ferretdb_binary(stack_dir / "build")
        data = stack_dir / "data" / "ferretdb"
        data.mkdir(parents=True, exist_ok=True)
        # WAL with synchronous=NORMAL: a commit survives a crash of any process, and upserts (one transaction
        # per document in FerretDB v1) no longer wait for an fsync each.
        url = f"file:{data.resolve()}/?_pragma=synchronous(NORMAL)"
        # The server moves the `_id` index of collections stored by older builds at start (stack/ferretdb), which
        # takes minutes for millions of documents: done here, before the wait for it to answer begins.
        builds._run([str(binary), f"-sqlite-url={url}", "-migrate"], cwd=data, what="FerretDB index migration")
        return [str(binary), f"-listen-addr={host}:{port}", f"-sqlite-url={url}"]

    def probe() -> bool:
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        try:
            client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=500)
            with client:
                client.admin.command("ping")
            return True
        except PyMongoError:
            return False

    return Service("ferretdb", host, port, prepare, probe, 30.0)


def kafka_service(bootstrap: str) -> Service:
    host, port = host_port(bootstrap, 9092)
    controller = port + KAFKA_CONTROLLER_PORT_OFFSET

    def prepare(stack_dir: Path) -> list[str]:
        libs = builds.kafka_libs(stack_dir / "build")
        data = stack_dir / "data" / "kafka"
        data.mkdir(parents=True, exist_ok=True)
        props = stack_dir / "run" / "kafka-server.properties"
        props.parent.mkdir(parents=True, exist_ok=True)
        props.write_text(kafka_properties(host, port, controller, data / "log"))
        classpath = f"{libs}/*"
        java = shutil.which("java")
        if java is None:
            raise StackError("java not found: run `make setup`")
        if not (data / "log" / "meta.properties").exists():
            cluster_id = _cluster_id(data / "cluster-id")
            builds._run([java, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", cluster_id,
                         "-c", str(props), "--ignore-formatted"], cwd=stack_dir, what="Kafka storage format")
        log4j = builds.REPO_STACK / "kafka" / "log4j2.properties"
        return [java, "-Xms256m", "-Xmx768m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError",
                "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={log4j}",
                f"-Dkafka.logs.file={stack_dir.resolve() / 'logs' / 'kafka-server.log'}",
                "-cp", classpath, "kafka.Kafka", str(props)]

    def probe() -> bool:
        # A broker that is still starting is expected here: kafka-python would log each refusal as an ERROR.
        kafka_log = logging.getLogger("kafka")
        level = kafka_log.level
        kafka_log.setLevel(logging.CRITICAL)
        try:
            return _kafka_answers(bootstrap)
        finally:
            kafka_log.setLevel(level)

    return Service("kafka", host, port, prepare, probe, 90.0)


def _kafka_answers(bootstrap: str) -> bool:
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000, bootstrap_timeout_ms=2000)
    except (KafkaError, ValueError, OSError):
        return False
    try:
        admin.list_topics()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def _cluster_id(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    import base64

    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    path.write_text(cluster_id)
    return cluster_id


def kafka_properties(host: str, port: int, controller_port: int, log_dir: Path) -> str:
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{controller_port}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(log_dir.resolve()),
        "num.partitions": "1",
        "auto.create.topics.enable": "true",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "2",
        # Compacted entity topics should shed superseded records soon enough for a dev machine.
        "log.cleaner.min.cleanable.ratio": "0.1",
        "message.max.bytes": "8388608",
    }
    return "".join(f"{k}={v}\n" for k, v in settings.items())
