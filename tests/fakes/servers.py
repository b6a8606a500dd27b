"""Small real HTTP servers that speak the external systems' contracts (HIS, payment, identity, notify,
clinic) and a webhook receiver. Tests steer them (fail the next N calls, answer slowly) and read what
they received; our own code is never mocked.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from engine.security.tokens import issue_handoff_token

# A route answers (status, JSON body) or (status, JSON body, extra headers).
Route = Callable[["FakeSystem", dict[str, Any]], tuple[Any, ...]]


class FakeSystem:
    """One fake system on 127.0.0.1:<random port>."""

    def __init__(self, name: str, routes: dict[tuple[str, str], Route]) -> None:
        self.name = name
        self.routes = routes
        self.requests: list[dict[str, Any]] = []
        self.effects: dict[str, Any] = {}  # idempotency key -> effect (applied once)
        self.fail_next = 0
        self.fail_status = 500
        self.delay = 0.0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeSystem:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        system = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return None

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = {"method": method, "path": self.path, "headers": headers, "raw": raw,
                           "json": json.loads(raw) if raw else None, "at": time.time()}
                with system.lock:
                    system.requests.append(request)
                    failing = system.fail_next > 0
                    if failing:
                        system.fail_next -= 1
                    delay = system.delay
                if delay:
                    time.sleep(delay)
                extra: list[dict[str, str]] = []
                if failing:
                    status, body = system.fail_status, {"error": "internal error", "code": "E500"}
                else:
                    route = system.routes.get((method, self.path)) or _prefix_route(system.routes, method, self.path)
                    status, body, *extra = route(system, request) if route else (404, {"error": "no route"})
                data = json.dumps(body, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    for name, value in (extra[0] if extra else {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

        return Handler


def _prefix_route(routes: dict, method: str, path: str) -> Route | None:
    for (m, p), route in routes.items():
        if m == method and p.endswith("*") and path.startswith(p[:-1]):
            return route
    return None


def _once(system: FakeSystem, request: dict[str, Any], make: Callable[[], Any]) -> Any:
    """Apply an effect once per Idempotency-Key (what the payment platform promises)."""
    key = request["headers"].get("idempotency-key") or f"anon-{len(system.requests)}"
    with system.lock:
        if key not in system.effects:
            system.effects[key] = make()
        return system.effects[key]


def _refund(system: FakeSystem, request: dict[str, Any]) -> tuple[int, Any]:
    body = request["json"] or {}
    refund = _once(system, request, lambda: {"refund_id": f"R{len(system.effects) + 1:04d}",
                                             "refund_request_id": body.get("refund_request_id"),
                                             "amount": body.get("amount"), "status": "processing"})
    return 200, refund


def _refund_status(system: FakeSystem, request: dict[str, Any]) -> tuple[int, Any]:
    wanted = request["path"].rsplit("/", 1)[1]
    for refund in system.effects.values():
        if refund.get("refund_request_id") == wanted:
            return 200, {**refund, "status": "succeeded"}
    return 404, {"error": "unknown refund"}


def _ok(body: Any) -> Route:
    return lambda system, request: (200, body(request) if callable(body) else body)


def payment() -> FakeSystem:
    return FakeSystem("payment", {("POST", "/refunds"): _refund, ("GET", "/refunds/*"): _refund_status})


def _archive_record(request: dict) -> dict:
    id_number = str((request["json"] or {}).get("id_number", ""))
    return {"found": True, "record_no": "BA-" + id_number[-4:]}


def his() -> FakeSystem:
    return FakeSystem("his", {
        ("POST", "/archive/check"): _ok(_archive_record),
        ("POST", "/notifications"): _ok({"ack": True}),
        ("POST", "/exams/bookings"): _ok({"booked": ["血常规", "心电图"]}),
        ("POST", "/beds/bookings"): _ok({"booked": True, "bed_no": "DS-12"}),
    })


def identity() -> FakeSystem:
    return FakeSystem("identity", {("POST", "/identity/verify"): _ok({"verified": True})})


def notify() -> FakeSystem:
    sent = _ok({"sent": True})
    return FakeSystem("notify", {("POST", "/patient-messages"): sent, ("POST", "/sms"): sent,
                                 ("POST", "/staff-messages"): sent})


def clinic() -> FakeSystem:
    return FakeSystem("clinic", {("POST", "/suspensions/notify"): _ok({"notified": 12}),
                                 ("POST", "/suspensions/release"): _ok({"released": 30})})


def webhook_receiver() -> FakeSystem:
    return FakeSystem("webhook", {("POST", "/hooks"): _ok({"ok": True})})


def auth_centre(secret: str, employee_no: str, now: Callable[[], float], audience: str = "hospital-workflow",
                ) -> FakeSystem:
    """The regional portal's auth centre (seed 004): its user `employee_no` is signed in there already.

    `GET /sso/login?service=<callback>` answers 302 to the callback with a fresh one-time hand-off token
    issued at `now()` (the platform's clock in tests).
    """
    def login(system: FakeSystem, request: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        service = parse_qs(urlsplit(request["path"]).query)["service"][0]
        token = issue_handoff_token(secret, employee_no, audience, now=now())
        return 302, {}, {"Location": f"{service}{'&' if '?' in service else '?'}{urlencode({'token': token})}"}

    return FakeSystem("auth_centre", {("GET", "/sso/login*"): login})


ALL = {"payment": payment, "his": his, "identity": identity, "notify": notify, "clinic": clinic}
