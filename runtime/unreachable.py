"""One clear line for a command whose Kafka, MongoDB or Redis did not answer, instead of a client's traceback."""

from __future__ import annotations

import aiokafka.errors
import kafka.errors
import pymongo.errors
import redis.exceptions
from pymongo.uri_parser import parse_uri

from runtime.settings import Settings, redis_address

# kafka-python gives up on an unreachable bootstrap with a KafkaTimeoutError after bootstrap_timeout_ms (30 s).
_KAFKA = (kafka.errors.KafkaTimeoutError, kafka.errors.KafkaConnectionError,
          aiokafka.errors.KafkaConnectionError, aiokafka.errors.KafkaTimeoutError)
# ServerSelectionTimeoutError (no server found in time) is a ConnectionFailure too.
_MONGO = (pymongo.errors.ConnectionFailure,)
_REDIS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

# Exit status of a command whose servers did not answer: sysexits.h' EX_UNAVAILABLE (2 is a usage error, and
# `dataget ingest` exits 3 when it refuses a mass delete).
UNREACHABLE = 69
# Characters of the client's own error kept in the message.
DETAIL_MAX = 160


class ServerUnreachable(Exception):
    """That a server did not answer, where the client's own exception can't go: from a parser process to its parent
    (an exception's cause is lost in pickling)."""

    def __init__(self, server: str) -> None:
        super().__init__(server)
        self.server = server


def mongo_address(url: str) -> str:
    """The hosts of a MongoDB URL, without its credentials."""
    return ",".join(f"{host}:{port}" for host, port in parse_uri(url)["nodelist"])


def unreachable_server(exc: BaseException, settings: Settings) -> str | None:
    """Which server exc (or an exception it was raised from) says did not answer, as "Kafka at host:port";
    None when it is about something else."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ServerUnreachable):
            return seen.server
        if isinstance(seen, _KAFKA):
            return f"Kafka at {settings.kafka_bootstrap}"
        if isinstance(seen, _MONGO):
            return f"MongoDB at {mongo_address(settings.mongo_url)}"
        # A refused password is a ConnectionError too, but the server did answer.
        if isinstance(seen, _REDIS) and not isinstance(seen, redis.exceptions.AuthenticationError):
            return f"Redis at {redis_address(settings.redis_url)}"
        seen = seen.__cause__
    return None


def unreachable_message(exc: BaseException, settings: Settings) -> str | None:
    """The line to print when exc says a server did not answer, with what to do about it; None otherwise."""
    server = unreachable_server(exc, settings)
    if server is None:
        return None
    # The local stack is started by one command; external servers are the operator's.
    fix = ("check that it runs and the DATAGET_* variables point at it" if settings.external_stack
           else "start the local servers with `dataget stack up`")
    detail = str(exc)
    # pymongo's message goes on with the whole topology description.
    if len(detail) > DETAIL_MAX:
        detail = detail[:DETAIL_MAX] + "…"
    return f"{server} does not answer: {fix} ({detail})"
