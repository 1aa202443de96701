import argparse

import pytest

from dataget.commands.reindex import run
from runtime.settings import settings_from_env


def test_reindex_refuses_fewer_than_one_worker_before_touching_any_server(capsys: pytest.CaptureFixture[str]) -> None:
    # The settings point at nothing that listens: a refusal must come before any connection.
    settings = settings_from_env({"DATAGET_REDIS_URL": "redis://127.0.0.1:9/0",
                                  "DATAGET_KAFKA_BOOTSTRAP": "127.0.0.1:9", "DATAGET_MONGO_URL": "mongodb://127.0.0.1:9/"})
    assert run(argparse.Namespace(timeout=None, workers=0), settings) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
