"""`python -m engine …`: exit codes and output of validate, deploy, start, tasks, complete, show, reseal."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

import engine
from engine import cli
from engine.models import AuditRecord
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parents[2]
BAD_CONDITION = Path(__file__).parent / "corpus" / "invalid" / "bad_python_condition.bpmn"
VALID = {"applicant_name": "张三", "amount": 1200, "reason": "购买耗材", "id_number": "11010119900101123X"}


@pytest.fixture
def run(ctx, monkeypatch, capsys):
    """Run the CLI in-process on the test database; returns (exit code, stdout, stderr)."""
    monkeypatch.setattr(engine, "open_engine", lambda: ctx)

    def _run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def _alone(tmp_path: Path, source: Path) -> str:
    """A file path for the CLI with no stray *.dmn beside it (a file argument takes its folder's DMNs)."""
    target = tmp_path / source.name
    shutil.copy(source, target)
    return str(target)


def test_validate_reports_diagnostics_and_fails_on_a_bad_definition(run, tmp_path):
    code, out, _ = run("validate", _alone(tmp_path, BAD_CONDITION))
    assert code == 1
    assert "bad_python_condition.bpmn:8: error [python-syntax] <f2>" in out
    assert "1 个错误 (errors)" in out


def test_validate_passes_a_good_definition(run, tmp_path):
    code, out, _ = run("validate", _alone(tmp_path, DATA / "approval.bpmn"))
    assert (code, out.strip()) == (0, "approval.bpmn: OK")


def test_deploy_start_tasks_complete_show(run, tmp_path):
    bpmn = _alone(tmp_path, DATA / "approval.bpmn")
    assert run("deploy", bpmn, "--user", "admin")[:2] == (0, "approval v1 deployed\n")
    assert run("deploy", bpmn, "--user", "admin")[:2] == (0, "approval v1 unchanged\n")

    code, out, _ = run("start", "approval", "--user", "alice", "--institution", "h1", "--business-key", "B-1")
    started = json.loads(out)
    assert code == 0 and started["status"] == "running"

    code, out, _ = run("tasks", "--user", "alice", "--roles", "h1:staff")
    [apply] = json.loads(out)
    assert code == 0 and (apply["node_id"], apply["instance_id"]) == ("apply", started["id"])
    assert json.loads(run("tasks", "--user", "dr_wang", "--roles", "h1:dept_head")[1]) == []

    code, out, _ = run("complete", apply["id"], "--user", "alice", "--roles", "h1:staff", "--data", json.dumps(VALID))
    assert code == 0 and [t["node_id"] for t in json.loads(out)["open_tasks"]] == ["dept_review"]
    [review] = json.loads(run("tasks", "--user", "dr_wang", "--roles", "h1:dept_head")[1])
    assert review["node_id"] == "dept_review"

    code, out, _ = run("show", started["id"])
    shown = json.loads(out)
    assert code == 0 and (shown["id"], shown["title"]) == (started["id"], "张三 申请 1200元")


def test_refusals_exit_2_with_the_error_on_stderr(run, tmp_path):
    run("deploy", _alone(tmp_path, DATA / "approval.bpmn"), "--user", "admin")
    started = json.loads(run("start", "approval", "--user", "alice", "--institution", "h1")[1])
    task_id = started["open_tasks"][0]["id"]

    code, out, err = run("complete", task_id, "--user", "alice", "--roles", "h1:staff", "--data", '{"amount": -5}')
    assert (code, out) == (2, "") and json.loads(err)["error"] == "ValidationFailed"
    run("complete", task_id, "--user", "alice", "--roles", "h1:staff", "--data", json.dumps(VALID))
    code, _, err = run("complete", task_id, "--user", "alice", "--roles", "h1:staff", "--data", json.dumps(VALID))
    assert code == 2 and json.loads(err)["error"] == "Conflict"

    code, _, err = run("start", "no_such_process", "--user", "alice", "--institution", "h1")
    assert code == 2 and json.loads(err)["error"] == "NotFound"
    code, _, err = run("show", "no-such-instance")
    assert code == 2 and json.loads(err)["error"] == "NotFound"


def test_reseal_reports_counts_and_audits_the_run(run, ctx):
    code, out, _ = run("reseal", "--batch", "50", "--user", "ops")
    assert code == 0 and out.startswith("re-sealed 0 values under key v1 (instances 0, human_tasks 0")
    records = [r for r in _audit(ctx) if r.action == "maintenance.reseal"]
    assert [(r.actor, r.details["batch"]) for r in records] == [("ops", 50)]


def _audit(ctx) -> list[AuditRecord]:
    with ctx.db.unit_of_work() as session:
        return list(session.scalars(select(AuditRecord)))


def test_python_dash_m_engine_end_to_end(tmp_path):
    """The real entry point in a fresh process, on a fresh SQLite file."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HWF_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "HWF_FORMS_DIR": str(DATA / "forms")}

    def engine_cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "engine", *argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    bad = engine_cli("validate", _alone(tmp_path, BAD_CONDITION))
    assert bad.returncode == 1 and "[python-syntax] <f2>" in bad.stdout
    assert engine_cli("migrate").returncode == 0
    deployed = engine_cli("deploy", _alone(tmp_path, DATA / "approval.bpmn"), "--user", "admin")
    assert (deployed.returncode, deployed.stdout) == (0, "approval v1 deployed\n")
    started = engine_cli("start", "approval", "--user", "alice", "--institution", "h1")
    assert started.returncode == 0, started.stderr
    shown = engine_cli("show", json.loads(started.stdout)["id"])
    assert shown.returncode == 0 and json.loads(shown.stdout)["status"] == "running"
    audit = engine_cli("verify-audit")
    assert audit.returncode == 0 and audit.stdout.endswith("records: OK\n")
