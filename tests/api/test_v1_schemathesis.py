"""schemathesis against /openapi.json (the v1 endpoints), every request signed: no 5xx."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

import engine
from api.auth import PlatformAuthenticator
from api.main import create_app
from engine.security.signing import sign_request
from tests.engine.identity.conftest import prepare

ROOT = Path(__file__).resolve().parents[2]
_nonce = itertools.count()


@pytest.fixture
def signed_app(ctx):
    prepare(ctx, forms_dir=ROOT / "forms", inline_worker=False)
    engine.load_demo_identity(ctx)
    engine.deploy_directory(ctx, ROOT / "processes" / "approvals", actor="loader")
    admin = engine.Subject("anquan_admin", {"*": frozenset({"security_admin"})})
    with ctx.db.unit_of_work() as s:
        from engine.identity.policy import add_rules, bump_version
        add_rules(s, "p", [["client:fuzz-01", "*", "portal", "read"],
                           ["client:fuzz-01", "*", "webhook", "manage"]])
        bump_version(ctx, s)
    engine.authorizer(ctx, force=True)
    made = engine.create_api_client(ctx, admin, key_id="fuzz-01", name="fuzz", allowed_networks=["0.0.0.0/0"],
                                    process_keys=["guest_meal"], message_names=["payment_result"],
                                    reason="schemathesis")
    return create_app(ctx, authenticate=PlatformAuthenticator()), made.secret, ctx


def test_v1_has_no_server_errors(signed_app):
    app, secret, ctx = signed_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    client = TestClient(app, raise_server_exceptions=False)
    failures = []
    for op_result in schema.get_all_operations():
        operation = op_result.ok()
        if not operation.path.startswith("/api/v1/"):
            continue

        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def run(case):
            request = case.as_transport_kwargs(base_url="")
            path = request["url"]
            if request.get("params"):
                from urllib.parse import urlencode
                path += "?" + urlencode(request["params"], doseq=True)
            import json as _json
            body = (_json.dumps(request["json"], ensure_ascii=False).encode()
                    if "json" in request else b"")
            headers = {k: v for k, v in (request.get("headers") or {}).items()
                       if k.lower() not in ("x-api-key", "x-signature", "x-timestamp", "x-nonce")}
            headers.update(sign_request(secret, request["method"], path, body,
                                        timestamp=int(ctx.clock.now().timestamp()),
                                        nonce=f"fuzz-{next(_nonce):08d}", key_id="fuzz-01"))
            headers["Content-Type"] = "application/json"
            response = client.request(request["method"], path, content=body or None, headers=headers)
            if response.status_code >= 500:
                failures.append((request["method"], path, response.status_code, response.text[:300]))

        run()
    assert not failures, failures
