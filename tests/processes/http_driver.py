"""The HTTP driver of the scenario runner: every action goes through the real app as its actors would.

- The external system (HIS / patient app / payment platform) is one signed v1 client: it starts the
  API-started processes (`POST /api/v1/processes/{key}/instances`), starts message-started ones and delivers
  every message (`POST /api/v1/messages/{name}`), and reads the instance (`GET /api/v1/instances/{id}`).
- Staff-started processes are started by a demo user holding one of the process's start roles in the
  institution (`POST /api/processes/{key}/instances`, session + CSRF).
- A human step is done by a demo user who holds a candidate role in the task's institution (or is its
  assignee / named candidate): they log in, find the task in their inbox (`GET /api/tasks`) and complete it.
- A timer fires when the fake clock reaches its due time and the job worker runs.

Which user acts is test-side knowledge (who in the demo district would do it); whether they may is the
platform's decision.
"""
from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import engine
from api.auth import PlatformAuthenticator
from api.main import create_app
from engine import EngineContext
from engine.models import Definition, Job
from engine.security.signing import sign_request
from tests.engine.identity.conftest import PASSWORD, prepare
from tests.fakes import servers
from tests.processes.scenario_runner import ROOT, ScenarioRun, message_start, start_institution

# Started by an external system through the v1 API (docs/PROCESSES.md: the patient app files the copy
# request); every other process without a message start event is started by staff.
API_STARTED = {"medical_record_copy"}


class Platform:
    """The app under test, seen by one signed external client and by staff who log in."""

    def __init__(self, ctx: EngineContext, web: TestClient, key_id: str, secret: str) -> None:
        self.ctx, self.web, self.key_id, self.secret = ctx, web, key_id, secret
        self._nonces = itertools.count()

    def signed(self, method: str, path: str, body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
        raw = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        signature = sign_request(self.secret, method, path, raw, timestamp=int(self.ctx.clock.now().timestamp()),
                                 nonce=f"scn-{next(self._nonces):08d}", key_id=self.key_id)
        return self.web.request(method, path, content=raw or None,
                                headers={**signature, "Content-Type": "application/json", **headers})

    def login(self, username: str) -> str:
        """A fresh session for `username` (the fake clock may have moved past the last one); its CSRF token."""
        self.web.cookies.clear()
        r = self.web.post("/api/auth/login", json={"identifier": username, "password": PASSWORD})
        assert r.status_code == 200 and r.json()["status"] == "ok", f"login {username}: {r.text}"
        return r.json()["csrf_token"]

    def logout(self, csrf: str) -> None:
        assert self.web.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
        self.web.cookies.clear()

    def users_with(self, roles: list[str], institution: str) -> list[str]:
        """Demo users holding one of `roles` in `institution` (directly, inherited or through `*`), those
        with the fewest roles there first: the plain doctor applies, the one who is also head approves."""
        authz = engine.authorizer(self.ctx)
        holders = set().union(*(authz.users_with_role(r, institution) for r in roles))
        return sorted(holders, key=lambda u: (len(authz.roles_of(u, institution, inherited=False)), u))


@contextmanager
def open_platform(ctx: EngineContext, systems: dict[str, servers.FakeSystem], *, key_id: str,
                  process_keys: Sequence[str], message_names: Sequence[str]) -> Iterator[Platform]:
    """The real app (PlatformAuthenticator) over `ctx` with the demo district, connectors pointed at the fake
    systems, and one external client `key_id` registered by the security admin for those processes/messages."""
    prepare(ctx, forms_dir=ROOT / "forms", inline_worker=False, connector_max_attempts=1,
            connector_urls={name: s.url for name, s in systems.items()})
    engine.load_demo_identity(ctx)
    security = engine.Subject("anquan_admin", {"*": frozenset({"security_admin"})})
    made = engine.create_api_client(ctx, security, key_id=key_id, name=f"外部系统 {key_id}",
                                    allowed_networks=["10.8.0.0/16"], process_keys=process_keys,
                                    message_names=message_names, reason="e2e tests")
    app = create_app(ctx, authenticate=PlatformAuthenticator())
    with TestClient(app, raise_server_exceptions=False, client=("10.8.1.2", 50000)) as web:
        yield Platform(ctx, web, key_id, made.secret)


class HttpRun(ScenarioRun):
    """Scenario actions over HTTP; observation prefers the v1 instance endpoint."""

    def __init__(self, ctx: EngineContext, systems: dict[str, servers.FakeSystem], process: str,
                 platform: Platform) -> None:
        super().__init__(ctx, systems, process)
        self.platform = platform
        self._deliveries = itertools.count()

    # ---- observation through GET /api/v1/instances/{id} ----
    def _v1(self) -> dict[str, Any]:
        r = self.platform.signed("GET", f"/api/v1/instances/{self.instance_id}")
        assert r.status_code == 200, r.text
        return r.json()

    def open_steps(self) -> list[str]:
        return [s["step"] for s in self._v1()["current_steps"]]

    def status(self) -> str:
        return self._v1()["state"]

    # ---- actions ----
    def _start_roles(self) -> list[str]:
        with self.ctx.db.unit_of_work() as session:
            latest = select(func.max(Definition.version)).where(Definition.process_key == self.process)
            row = session.scalar(select(Definition).where(Definition.process_key == self.process,
                                                          Definition.version == latest.scalar_subquery()))
            return list((row.attributes or {}).get("startRoles") or [])

    def start(self, data: dict[str, Any]) -> None:
        institution = start_institution(data)
        message = message_start(self.process)
        if message:
            r = self.platform.signed("POST", f"/api/v1/messages/{message}", {
                "correlation_key": self.business_key, "payload": data, "institution": institution,
                "delivery_id": f"{self.business_key}-start"})
            assert r.status_code == 202 and r.json()["status"] == "started", r.text
            (self.instance_id,) = r.json()["instance_ids"]
        elif self.process in API_STARTED:
            r = self.platform.signed("POST", f"/api/v1/processes/{self.process}/instances", {
                "business_key": self.business_key, "institution": institution, "initiator_ref": "patient:scenario",
                "payload": data}, **{"Idempotency-Key": self.business_key})
            assert r.status_code == 201, r.text
            self.instance_id = r.json()["id"]
        else:
            starters = self.platform.users_with(self._start_roles(), institution)
            assert starters, f"no demo user may start {self.process} in {institution}"
            csrf = self.platform.login(starters[0])
            r = self.platform.web.post(f"/api/processes/{self.process}/instances", headers={"X-CSRF-Token": csrf},
                                       json={"institution": institution, "business_key": self.business_key,
                                             "data": data})
            assert r.status_code == 201, r.text
            self.instance_id = r.json()["id"]
            self.platform.logout(csrf)
        self.settle()

    def _actor(self, task: engine.TaskView) -> str:
        if task.assignee:
            return task.assignee
        if task.candidate_users:
            return task.candidate_users[0]
        holders = self.platform.users_with(task.candidate_roles, task.institution)
        assert holders, f"no demo user holds {task.candidate_roles} in {task.institution} for {task.node_id}"
        return holders[0]

    def complete(self, task: str, outcome: str | None, data: dict[str, Any]) -> None:
        who = self._actor(self.open_task(task))
        csrf = self.platform.login(who)
        inbox = self.platform.web.get("/api/tasks", params={"limit": 500})
        assert inbox.status_code == 200, inbox.text
        mine = [t for t in inbox.json() if t["instance_id"] == self.instance_id and t["node_id"] == task]
        assert mine, f"{task!r} is not in {who}'s inbox: {[(t['process_key'], t['node_id']) for t in inbox.json()]}"
        r = self.platform.web.post(f"/api/tasks/{mine[0]['id']}/complete", headers={"X-CSRF-Token": csrf},
                                   json={"outcome": outcome, "data": data})
        assert r.status_code == 200, f"{who} completing {task}: {r.text}"
        self.platform.logout(csrf)
        self.settle()

    def message(self, name: str, payload: dict[str, Any]) -> None:
        r = self.platform.signed("POST", f"/api/v1/messages/{name}", {
            "correlation_key": self.correlation_key(name), "payload": payload,
            "delivery_id": f"{self.business_key}-{next(self._deliveries)}"})
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "delivered", f"message {name}: {r.json()}"
        self.settle()

    def timer(self, element: str) -> None:
        """Time passes until the timer is due; the job worker fires it (and whatever else fell due)."""
        job = self.timer_jobs(element)[0]
        due = job.run_at if job.run_at.tzinfo else job.run_at.replace(tzinfo=UTC)
        if due > self.ctx.clock.now():
            self.ctx.clock.advance(seconds=(due - self.ctx.clock.now()) / timedelta(seconds=1))
        self.settle()
        with self.ctx.db.unit_of_work() as session:
            state = session.get(Job, job.id).status
        assert state == "done", f"timer {element!r} job is {state}"
