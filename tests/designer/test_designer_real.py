"""The designer in Chromium against the real platform (uvicorn, SQLite, TEST authenticator): no mock.

Designs a form (server-rendered preview with the inbox's CSS and conditional-visibility script),
adds a user task, sees a lint error and fixes it with a candidate role and that form, dry-runs,
deploys, changes the SLA and sees the diff, saves a draft and reopens it, deploys again, and
migrates a running instance of v1. Screenshots: docs/screenshots/designer-real-*.png.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.designer.test_designer_smoke import ARGS, CHROMIUM, DESIGNER, PREVIEW, ROOT, SHOTS, _center, _need

pytestmark = pytest.mark.browser
KEY = "clinic_triage"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def real_server(tmp_path_factory):
    _need(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}")
    if not (DESIGNER / "dist" / "designer.js").exists():
        _need(subprocess.run(["which", "npm"], capture_output=True).returncode == 0, "npm is not installed")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=DESIGNER, check=True)
        subprocess.run(["npm", "run", "build"], cwd=DESIGNER, check=True)
    var = tmp_path_factory.mktemp("real")
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HWF_VAR_DIR": str(var),
        "HWF_DATABASE_URL": f"sqlite:///{var / 'designer.db'}",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "tests.designer.real_app:build",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # start-up migrates and seeds; slow on a loaded CI machine
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"server exited: {proc.stdout.read()}")
                if time.monotonic() > deadline:
                    pytest.fail("server did not answer /healthz within 180 s")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture()
def admin_page(real_server):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*ARGS, "--disable-quic"])
        context = browser.new_context(
            viewport={"width": 1440, "height": 900},
            locale="zh-CN",
            extra_http_headers={"x-test-user": "admin"},
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        yield page, real_server
        context.close()
        browser.close()
        assert not errors, f"page errors: {errors}"


def _shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"designer-real-{name}.png"))


def _deploy(pg, comment: str) -> None:
    pg.click("#btn-deploy")
    pg.fill("#deploy-comment", comment)
    pg.click(".modal-buttons button[data-value='deploy']")
    pg.wait_for_selector(".toast-success", timeout=15000)
    pg.evaluate("document.querySelectorAll('.toast').forEach(t => t.remove())")


def _hospital_group(pg, task_id: str, probe: str) -> None:
    """Select the task and make sure the 医院扩展 properties group is open."""
    pg.evaluate(f"""() => {{ const m = window.designer.modeler;
        m.get('selection').select(m.get('elementRegistry').get('{task_id}')); }}""")
    pg.locator(".bio-properties-panel-group-header", has_text="医院扩展").wait_for(timeout=10000)
    if not pg.locator(probe).is_visible():
        pg.locator(".bio-properties-panel-group-header", has_text="医院扩展").click()
    pg.locator(probe).wait_for(state="visible", timeout=10000)


def test_designer_against_the_real_platform(admin_page):
    pg, url = admin_page

    # 0. non-designers are refused the UI
    denied = pg.request.get(url + "/designer/", headers={"x-test-user": "alice"})
    assert denied.status == 403

    # 1. design a form: server-rendered preview (the inbox renderer), then save it as a draft
    pg.on("dialog", lambda d: d.accept("triage_review"))
    pg.goto(url + "/designer/forms.html?key=leave_review")
    pg.wait_for_selector("body[data-ready='true']", timeout=20000)
    pg.click("#btn-new-form")
    pg.fill("#form-title", "分诊审核")
    pg.select_option("#new-field-type", "textarea")
    pg.click("#btn-add-field")
    pg.locator(".field-card").last.locator(".f-title").fill("审核意见")
    pg.select_option("#new-field-type", "enum")
    pg.click("#btn-add-field")
    card = pg.locator(".field-card").last
    card.locator(".f-title").fill("紧急程度")
    card.locator(".f-options").fill("普通\n加急")
    card.locator(".f-required").check()
    pg.wait_for_function(
        f"""() => {{ const p = {PREVIEW};
        return p && p.textContent.includes('紧急程度') && p.innerHTML.includes('>加急</option>')
            && p.innerHTML.includes('<textarea'); }}""",
        timeout=10000,
    )
    _shot(pg, "form-preview")

    # conditional visibility in the preview runs the inbox's own script: 审核意见 only when 紧急程度 = 加急
    comment = pg.locator(".field-card").first.locator(".f-name").input_value()
    level = card.locator(".f-name").input_value()
    pg.locator(".field-card").first.locator(".f-vis-field").select_option(level)
    pg.locator(".field-card").first.locator(".f-vis-value").fill("加急")
    preview = pg.frame_locator("#form-preview iframe.form-preview-frame")
    wrapper = preview.locator(f"#field-{comment}[data-visible-if]")
    pg.wait_for_selector("#form-preview[data-seq]:not([data-pending])", state="attached", timeout=10000)
    wrapper.wait_for(state="hidden", timeout=10000)  # nothing chosen yet
    preview.locator(f"select[name='{level}']").select_option("加急")
    wrapper.wait_for(state="visible", timeout=5000)
    assert not preview.locator(f"textarea[name='{comment}']").is_disabled()
    preview.locator(f"select[name='{level}']").select_option("普通")
    wrapper.wait_for(state="hidden", timeout=5000)
    assert preview.locator(f"textarea[name='{comment}']").is_disabled()  # hidden inputs are not posted
    pg.click("#btn-save-form")
    pg.wait_for_selector(".toast-success", timeout=10000)

    # 2. a new process: drop a user task onto the start→end flow and name it
    pg.goto(url + f"/designer/?key={KEY}")
    pg.wait_for_selector("body[data-ready='true']", timeout=20000)
    ex, ey = _center(pg, ".djs-palette .entry[data-action='create.user-task']")
    tx, ty = _center(pg, "g.djs-connection[data-element-id='Flow_1']")
    pg.mouse.move(ex, ey)
    pg.mouse.down()
    pg.mouse.move(ex + 40, ey, steps=5)
    pg.mouse.move(tx, ty, steps=20)
    pg.mouse.up()
    task_id = pg.evaluate("""() => window.designer.modeler.get('elementRegistry')
        .filter(e => e.type === 'bpmn:UserTask')[0].id""")
    pg.keyboard.type("分诊审核")
    pg.mouse.click(600, 150)

    # 3. validate: lint errors from the browser and from the server on the new task
    pg.click("#btn-validate")
    rows = pg.locator(f"#results-panel tr.diag-row[data-element-id='{task_id}']")
    rows.first.wait_for(timeout=10000)
    text = " ".join(rows.all_inner_texts())
    assert "user-task-form" in text and "user-task-candidates" in text, text
    _shot(pg, "lint-errors")

    # 4. fix it: candidate role + the form designed above
    _hospital_group(pg, task_id, "#bio-properties-panel-hospital-candidate-roles-dept_head")
    pg.locator("#bio-properties-panel-hospital-candidate-roles-dept_head").check()
    pg.select_option("#bio-properties-panel-hospital-form", "triage_review")
    pg.wait_for_timeout(600)
    pg.click("#btn-validate")
    pg.wait_for_function(
        f"""() => document.querySelector('#results-panel .panel-title').textContent.includes('(')
            && !document.querySelector("#results-panel tr.diag-row[data-element-id='{task_id}']")""",
        timeout=10000,
    )
    _shot(pg, "lint-fixed")

    # 5. dry-run (in memory), then deploy v1
    pg.click("#btn-dryrun")
    pg.click(".modal-buttons button[data-value='run']")
    pg.wait_for_selector(f"g.djs-element.dryrun-path[data-element-id='{task_id}']", timeout=10000)
    assert "dept_head" in pg.inner_text("#results-panel")
    _deploy(pg, "首版")

    # a running instance of v1, waiting on the new task
    started = pg.request.post(
        url + f"/api/processes/{KEY}/instances",
        headers={"x-test-user": "alice"},
        data={"institution": "h1", "business_key": "TRIAGE-001"},
    )
    assert started.status == 201, started.text()

    # 6. change the SLA and see the diff against v1, then deploy v2
    _hospital_group(pg, task_id, "#bio-properties-panel-hospital-sla")
    pg.fill("#bio-properties-panel-hospital-sla", "PT4H")
    pg.wait_for_timeout(600)
    pg.click("#btn-diff")
    pg.wait_for_selector(f"g.djs-element.diff-changed[data-element-id='{task_id}']", timeout=10000)
    assert "hospital:sla" in pg.inner_text("#results-panel")
    _shot(pg, "diff")

    # 6b. save it as a draft, start something else, and reopen the draft (version 0) from the Open dialog
    pg.click("#btn-save")
    pg.wait_for_selector(".toast-success", timeout=10000)
    pg.evaluate("document.querySelectorAll('.toast').forEach(t => t.remove())")
    pg.click("#btn-new")
    pg.wait_for_function(f"() => !document.querySelector('#doc-title').textContent.startsWith('{KEY}')")
    pg.click("#btn-open")
    draft_row = pg.locator(f".modal tr[data-element-id='{KEY}@0']")
    draft_row.wait_for(timeout=10000)
    assert "草稿" in draft_row.inner_text()
    assert pg.locator(f".modal tr[data-element-id='{KEY}@1']").count() == 1  # the deployed version is listed too
    draft_row.click()
    pg.wait_for_function(f"() => document.querySelector('#doc-title').textContent === '{KEY}'", timeout=10000)
    reopened = pg.evaluate("async () => (await window.designer.modeler.saveXML()).xml")
    assert 'hospital:sla="PT4H"' in reopened and "分诊审核" in reopened
    _deploy(pg, "SLA 4 小时")

    # 7. migrate the v1 instance to v2 with a reason; the report comes from the server
    pg.click("#btn-migrate")
    pg.wait_for_selector(".modal .instances tr:has-text('TRIAGE-001')", timeout=10000)
    # changing the target version asks the server to check the instances against that version
    for target in ("1", "2"):
        with pg.expect_response(lambda r, v=target: f"to_version={v}" in r.url and r.ok):
            pg.select_option("#migrate-to", target)
    pg.wait_for_selector(".modal .instances tr:has-text('TRIAGE-001') input:checked", timeout=10000)
    _shot(pg, "migrate-dialog")
    pg.fill("#migrate-reason", "SLA 调整为 4 小时")
    pg.click(".modal-buttons button[data-value='go']")
    pg.wait_for_function(
        "() => document.querySelector('#results-panel').innerText.includes('migrated')", timeout=10000
    )
    _shot(pg, "migrated")
    instance = pg.request.get(url + f"/api/instances/{started.json()['id']}").json()
    assert instance["definition_version"] == 2
