"""Every scenario in processes/*/test_*.json, run through the public engine on SQLite and PostgreSQL.

Human steps are completed by subjects holding the task's candidate roles; messages are delivered with the
correlation key the instance waits on; timers fire through the engine's fire_timer; service tasks call the
fake HTTP systems of tests/fakes/servers.py, steered per step to answer the scenario's result. The same
scenarios run over HTTP, as the external systems and the staff would, in test_scenarios_http.py.
"""
from __future__ import annotations

import pytest

from engine import EngineContext, Settings, deploy_directory
from tests.processes.scenario_runner import ROOT, EngineRun, all_scenarios

SCENARIOS = all_scenarios()


@pytest.fixture
def real(ctx, systems) -> EngineContext:
    settings = Settings(database_url=ctx.settings.database_url, forms_dir=ROOT / "forms", inline_worker=False,
                        connector_urls={name: s.url for name, s in systems.items()}, connector_max_attempts=1)
    return EngineContext(settings=settings, db=ctx.db, runtime=ctx.runtime, clock=ctx.clock, extras=dict(ctx.extras))


@pytest.mark.parametrize(("sid", "process", "folder", "scenario"),
                         [pytest.param(*s, id=s[0]) for s in SCENARIOS])
def test_scenario(real, systems, sid, process, folder, scenario):
    deploy_directory(real, folder, actor="scenario-loader")  # the process's own family: BPMN, DMN, forms
    EngineRun(real, systems, process).run(sid.replace("[", "-").rstrip("]"), scenario)
