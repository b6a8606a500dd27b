"""Browser fixtures: a real uvicorn server (SQLite file, shipped processes, demo data) and Debian's Chromium."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

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
