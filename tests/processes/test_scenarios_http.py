"""Every scenario in processes/*/test_*.json, driven only through the HTTP API on SQLite and PostgreSQL.

The real app (create_app + PlatformAuthenticator) with the demo district: the external system is a signed
v1 client, staff log in and work their inbox, timers fire when the fake clock reaches them and the job
worker runs, connectors call the fake HIS / payment / identity / notify servers (tests/fakes/servers.py).
"""
from __future__ import annotations

import pytest

import engine
from tests.processes.http_driver import HttpRun, open_platform
from tests.processes.scenario_runner import all_scenarios, message_start

SCENARIOS = all_scenarios()
PROCESS_KEYS = sorted({process for _, process, _, _ in SCENARIOS})
# every message the scenarios deliver, and the message start events
MESSAGES = sorted({m for p in PROCESS_KEYS if (m := message_start(p))}
                  | {step["message"]["name"] for *_, s in SCENARIOS for step in s["steps"] if "message" in step})


@pytest.fixture
def platform(ctx, systems):
    with open_platform(ctx, systems, key_id="his-01", process_keys=PROCESS_KEYS, message_names=MESSAGES) as p:
        yield p


@pytest.mark.parametrize(("sid", "process", "folder", "scenario"),
                         [pytest.param(*s, id=s[0]) for s in SCENARIOS])
def test_scenario_over_http(ctx, systems, platform, sid, process, folder, scenario):
    engine.deploy_directory(ctx, folder, actor="scenario-loader")
    HttpRun(ctx, systems, process, platform).run(sid.replace("[", "-").rstrip("]"), scenario)
