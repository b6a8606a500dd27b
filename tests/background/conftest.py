from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from engine import deploy
from engine.jobs.worker import load_handlers
from tests.fakes import servers

DATA = Path(__file__).parent / "data"


@pytest.fixture
def fakes():
    started = {name: make().start() for name, make in servers.ALL.items()}
    started["webhook"] = servers.webhook_receiver().start()
    yield started
    for system in started.values():
        system.stop()


def with_settings(ctx, **overrides):
    return dataclasses.replace(ctx, settings=ctx.settings.model_copy(update=overrides))


@pytest.fixture
def bg(ctx, fakes):
    """The test engine wired to the fake systems through the ordinary settings."""
    load_handlers()
    urls = {name: system.url for name, system in fakes.items() if name != "webhook"}
    return with_settings(ctx, connector_urls=urls, connector_timeout_seconds=0.5, connector_max_attempts=3,
                         job_backoff_seconds=10.0, webhook_max_attempts=3, job_lease_seconds=60.0)


def deploy_bg(ctx, *names):
    for name in names:
        deploy(ctx, {name: (DATA / name).read_bytes()}, actor="admin")
