from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import engine
from api.main import create_app
from engine import Subject
from tests.conftest import DATA
from tests.processes.http_driver import open_platform

USERS = {
    "alice": Subject("alice", {"h1": frozenset({"staff"})}),
    "dr_wang": Subject("dr_wang", {"h1": frozenset({"dept_head"})}),
    "admin": Subject("admin", {"h1": frozenset({"process_admin"})}),
    "bob": Subject("bob", {"h2": frozenset({"staff"})}),
}


def header_authenticator(request):
    """Test-only identity: the real app authenticates sessions and signed requests."""
    return USERS.get(request.headers.get("x-test-user", ""))


@pytest.fixture
def client(ctx):
    with TestClient(create_app(ctx, authenticate=header_authenticator), raise_server_exceptions=False) as c:
        yield c


def as_user(name: str) -> dict[str, str]:
    return {"x-test-user": name}


APPLICATION = {"applicant_name": "张三", "amount": 10, "reason": "耗材采购"}


def deploy_file(client, name: str) -> None:
    """Deploy tests/engine/data/<name> as admin through the API."""
    files = [("files", (name, (DATA / name).read_bytes(), "application/xml"))]
    assert client.post("/api/definitions", files=files, headers=as_user("admin")).status_code == 201


def start_and_apply(client, process: str, *, application: dict | None = None, **data) -> tuple[str, str, list]:
    """alice starts `process` in h1 and submits its application step: (instance id, application task id,
    the tasks that submission created)."""
    r = client.post(f"/api/processes/{process}/instances", json={"institution": "h1", "data": data},
                    headers=as_user("alice"))
    assert r.status_code == 201, r.text
    apply_id = r.json()["open_tasks"][0]["id"]
    ok = client.post(f"/api/tasks/{apply_id}/complete", headers=as_user("alice"),
                     json={"data": application or APPLICATION})
    assert ok.status_code == 200, ok.text
    return r.json()["id"], apply_id, ok.json()["created"]


@pytest.fixture
def platform(ctx, systems):
    """The medical-record copy process behind the signed API, as the patient app calls it."""
    root = Path(__file__).resolve().parents[2]
    with open_platform(ctx, systems, key_id="patient-app", process_keys=["medical_record_copy"],
                       message_names=["payment_result"]) as p:
        engine.deploy_directory(ctx, root / "processes" / "medical_records", actor="loader")
        yield p
