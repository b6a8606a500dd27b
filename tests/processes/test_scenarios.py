"""Every scenario in processes/*/test_*.json, run through the public engine on SQLite and PostgreSQL.

Human steps are completed by subjects holding the task's candidate roles; messages are delivered with the
correlation key the instance waits on; timers fire through the background job worker's fire_timer; service
tasks call the fake HTTP systems of tests/fakes/servers.py, steered per step to answer the scenario's result.
"""
from __future__ import annotations

import pytest

from engine import EngineContext, Settings, deploy_directory
from tests.fakes import servers
from tests.processes.scenario_runner import PROCESSES, ROOT, all_scenarios, run_scenario

SCENARIOS = all_scenarios()
@pytest.fixture(scope="module")
def systems():
    started = {name: make().start() for name, make in servers.ALL.items()}
    yield started
    for system in started.values():
        system.stop()


@pytest.fixture
def real(ctx, systems) -> EngineContext:
    settings = Settings(database_url=ctx.settings.database_url, forms_dir=ROOT / "forms", inline_worker=False,
                        connector_urls={name: s.url for name, s in systems.items()}, connector_max_attempts=1)
    real_ctx = EngineContext(settings=settings, db=ctx.db, runtime=ctx.runtime, clock=ctx.clock)
    deploy_directory(real_ctx, PROCESSES, actor="scenario-loader")
    return real_ctx


@pytest.mark.parametrize(("sid", "process", "scenario"),
                         [pytest.param(sid, process, scenario, id=sid) for sid, process, scenario in SCENARIOS])
def test_scenario(real, systems, sid, process, scenario):
    run_scenario(real, systems, process, sid.replace("[", "-").rstrip("]"), scenario)
