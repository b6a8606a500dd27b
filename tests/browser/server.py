"""A real uvicorn server for browser tests and screenshots: SQLite file, shipped processes, demo data.

Identity is the test-only cookie/header authenticator (`test_user` cookie): the real login lands with
the identity work. Run by hand for a look: `python -m tests.browser.server 8765` (then set the cookie
`test_user=nurse_li` in the browser, or open /_test/login/nurse_li).
"""
from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from api.main import create_app
from engine import (
    EngineContext,
    FakeClock,
    Settings,
    complete_task,
    deploy_directory,
    open_engine,
    seed_policy,
    start_instance,
)
from engine.config import PROJECT_ROOT
from engine.migrate import upgrade
from tests.pages.conftest import USERS, HeaderAuthenticator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def leave(name: str, days: float, leave_type: str = "annual") -> dict[str, object]:
    data: dict[str, object] = {
        "applicant_name": name, "employee_no": "N" + str(abs(hash(name)) % 1000), "department": "内科",
        "staff_type": "nurse", "leave_type": leave_type, "start_date": "2026-01-06",
        "end_date": "2026-01-08", "days": days, "reason": "家中有事",
        "handover": [{"item": "3床病人护理", "handover_to": "张护士"}]}
    if leave_type == "sick":  # the start form requires a sick note
        data["attachment"] = "sick-note-demo.pdf"
    return data


def seed(ctx: EngineContext, clock: FakeClock) -> None:
    """A few instances at different points, so every page has something to show."""
    deploy_directory(ctx, PROJECT_ROOT / "processes", actor="demo-loader")
    for i, (name, days) in enumerate([("李护士", 2), ("陈护士", 1), ("周护士", 5), ("吴护士", 20)]):
        start_instance(ctx, "leave_request", initiator="nurse_li" if i < 2 else "alice", institution="h1",
                       data=leave(name, days, "sick" if i == 2 else "annual"))
        clock.advance(hours=3)
    meal = {"applicant_name": "王主任", "department": "心内科", "meal_date": "2026-01-07",
            "meal_type": "lunch",
            "guest_count": 4, "standard_per_person": 60, "amount": 240, "reason": "外院专家会诊"}
    start_instance(ctx, "guest_meal", initiator="dr_wang", institution="h1", data=meal)
    clock.advance(days=2)
    head = USERS["dr_wang"]
    from engine import inbox_page  # noqa: PLC0415 - keep the module import light for `--help`
    rows = inbox_page(ctx, head).rows
    done = [r for r in rows if r.title.startswith("周护士") or r.title.startswith("吴护士")]
    for row in done:
        complete_task(ctx, row.task_id, head, outcome="approve",
                      data={"outcome": "approve", "comment": "同意"})
    clock.advance(hours=2)


class ServerThread(threading.Thread):
    def __init__(self, app: FastAPI, port: int) -> None:
        super().__init__(daemon=True)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))

    def run(self) -> None:
        self.server.run()

    def stop(self) -> None:
        self.server.should_exit = True
        self.join(timeout=10)


def build(folder: Path) -> tuple[FastAPI, EngineContext]:
    url = f"sqlite:///{folder / 'browser.db'}"
    upgrade(url)
    clock = FakeClock()
    ctx = open_engine(Settings(database_url=url, var_dir=folder), clock=clock)
    seed_policy(ctx)  # the engine refuses role-based actions without the policy rules
    seed(ctx, clock)
    app = create_app(ctx, authenticate=HeaderAuthenticator(USERS))

    @app.get("/_test/login/{name}", include_in_schema=False)
    def test_login(name: str) -> RedirectResponse:
        response = RedirectResponse("/inbox", status_code=303)
        response.set_cookie("test_user", name, samesite="lax")
        return response

    return app, ctx


def start(folder: Path, port: int | None = None) -> tuple[ServerThread, str, EngineContext]:
    app, ctx = build(folder)
    port = port or free_port()
    thread = ServerThread(app, port)
    thread.start()
    deadline = time.monotonic() + 60  # a loaded CI machine can take a while
    while not thread.server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start within 60 s")
        time.sleep(0.05)
    return thread, f"http://127.0.0.1:{port}", ctx


if __name__ == "__main__":
    server, base, _ = start(Path(tempfile.mkdtemp()), int(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(f"{base}/_test/login/nurse_li", flush=True)
    try:
        server.join()
    except KeyboardInterrupt:
        server.stop()
