"""Browser fixtures: a real uvicorn server (SQLite file, shipped processes, demo data) and Debian's Chromium."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import engine
from api.auth import PlatformAuthenticator
from api.main import create_app
from engine import FakeClock, Settings, deploy_directory, open_engine, start_instance
from engine.config import PROJECT_ROOT
from engine.migrate import upgrade
from tests.browser.server import ServerThread, free_port, leave

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-quic"]
VENDOR = ROOT / "api" / "static" / "vendor"


def _vendor_assets() -> None:
    """bpmn-js viewer and Chart.js come from the designer's npm build (make designer)."""
    if (VENDOR / "bpmn-navigated-viewer.production.min.js").exists() and (VENDOR / "chart.umd.min.js").exists():
        return
    if shutil.which("npm") is None:
        pytest.skip("npm is needed to build api/static/vendor (make designer)")
    designer = ROOT / "designer"
    if not (designer / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=designer, check=True)
    subprocess.run(["npm", "run", "build"], cwd=designer, check=True)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    from tests.browser.server import start

    _vendor_assets()
    thread, base, ctx = start(tmp_path_factory.mktemp("browser"))
    yield base
    thread.stop()
    ctx.db.engine.dispose()


@pytest.fixture(scope="module")
def demo_server(demo_app):
    return demo_app[0]


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """The demo district (real accounts, password Demo@2026hosp) behind the real login (PlatformAuthenticator):
    (URL, the server's engine context)."""
    folder: Path = tmp_path_factory.mktemp("login-browser")
    url = f"sqlite:///{folder / 'browser.db'}"
    upgrade(url)
    ctx = open_engine(Settings(database_url=url, var_dir=folder), clock=FakeClock())
    engine.load_demo_identity(ctx)
    deploy_directory(ctx, PROJECT_ROOT / "processes", actor="demo-loader")
    start_instance(ctx, "leave_request", initiator="wangfang", institution="rmyy_main",
                   data=leave("王芳", 2))
    port = free_port()
    thread = ServerThread(create_app(ctx, authenticate=PlatformAuthenticator()), port)
    thread.start()
    for _ in range(100):
        if thread.server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ctx
    thread.stop()
    ctx.db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def open_as(browser, live_server):
    """open_as(user, width=1280) -> a zh-CN page signed in as `user` (test cookie)."""
    contexts = []

    def _open(user: str, width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{live_server}/_test/login/{user}")
        return page

    yield _open
    for context in contexts:
        context.close()
