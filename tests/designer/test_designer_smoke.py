"""Browser smoke test of the BPMN/form designer against designer/dev/mock-server.mjs.

Needs node (to build dist/ and run the mock), Python playwright and a system Chromium
(/usr/bin/chromium or $CHROMIUM). Never downloads a browser.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.screenshots import screenshot_dir

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DESIGNER = ROOT / "designer"
SHOTS = screenshot_dir()
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# the form preview is an iframe document styled and scripted like the inbox task page
PREVIEW = "document.querySelector('#form-preview iframe.form-preview-frame')?.contentDocument?.body"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def _need(cond: bool, why: str) -> None:
    if not cond:
        pytest.skip(why)


@pytest.fixture(scope="module")
def server_url():
    _need(shutil.which("node") is not None, "node is not installed")
    if not (DESIGNER / "dist" / "designer.js").exists():
        _need(shutil.which("npm") is not None, "npm is needed to build designer/dist (make designer)")
        if not (DESIGNER / "node_modules").exists():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=DESIGNER, check=True)
        subprocess.run(["npm", "run", "build"], cwd=DESIGNER, check=True)
    proc = subprocess.Popen(["node", "dev/mock-server.mjs", "0"], cwd=DESIGNER,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/designer/", line)
        assert m, f"mock server did not start: {line!r}"
        yield f"http://127.0.0.1:{m.group(1)}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    _need(Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"page errors: {errors}"


def _center(pg, selector):
    box = pg.locator(selector).first.bounding_box()
    assert box, f"no box for {selector}"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _shot(pg, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / name))


def test_designer_smoke(page, server_url):
    pg = page
    pg.goto(server_url + "/designer/")
    pg.wait_for_selector("body[data-ready='true']", timeout=20000)
    assert pg.locator("#btn-validate").inner_text() == "校验"

    # 1. drag a user task from the palette onto the start→end flow (it gets spliced in)
    ex, ey = _center(pg, ".djs-palette .entry[data-action='create.user-task']")
    tx, ty = _center(pg, "g.djs-connection[data-element-id='Flow_1']")
    pg.mouse.move(ex, ey)
    pg.mouse.down()
    pg.mouse.move(ex + 40, ey, steps=5)
    pg.mouse.move(tx, ty, steps=20)
    pg.mouse.up()
    task_id = pg.evaluate("""() => window.designer.modeler.get('elementRegistry')
        .filter(e => e.type === 'bpmn:UserTask')[0].id""")
    assert task_id
    # name it via direct editing (opened automatically after create)
    pg.keyboard.type("科室审核")
    pg.mouse.click(600, 150)  # click on empty canvas commits the label
    connected = pg.evaluate(f"""() => {{
        const t = window.designer.modeler.get('elementRegistry').get('{task_id}');
        return [t.incoming.length, t.outgoing.length, t.businessObject.name]; }}""")
    assert connected == [1, 1, "科室审核"], connected

    # 2. validate: client lint (no candidate) + server (no form) on the task
    pg.click("#btn-validate")
    rows = pg.locator(f"#results-panel tr.diag-row[data-element-id='{task_id}']")
    rows.first.wait_for(timeout=10000)
    text = " ".join(rows.all_inner_texts())
    assert "候选角色" in text, text     # client bpmnlint hospital/user-task-assignment
    assert "表单" in text, text         # server diagnostic user-task-form
    assert pg.locator(f".diag-error-badge[data-element-id='{task_id}']").count() == 1
    assert pg.locator(f"g.djs-element.diag-error[data-element-id='{task_id}']").count() == 1
    _shot(pg, "designer-validate.png")

    # clicking a problem selects the element
    pg.click("#results-panel .panel-close")
    pg.mouse.click(600, 150)
    pg.click("#btn-validate")
    rows.first.click()
    pg.wait_for_selector(f"g.djs-element.selected[data-element-id='{task_id}']")

    # 3. fix it in the 医院扩展 group: candidate role + form
    header = pg.locator(".bio-properties-panel-group-header", has_text="医院扩展")
    header.click()
    pg.locator("#bio-properties-panel-hospital-candidate-roles-dept_head").check()
    pg.select_option("#bio-properties-panel-hospital-form", "leave_request")
    pg.fill("#bio-properties-panel-hospital-sla", "P2D")
    pg.select_option("#bio-properties-panel-hospital-countersign", "any")
    # read-only/hidden fields are picked from the chosen form's fields
    pg.locator("#bio-properties-panel-hospital-readonly-fields-days").check(timeout=10000)
    pg.locator("#bio-properties-panel-hospital-readonly-fields-reason").check()
    pg.locator("#bio-properties-panel-hospital-hidden-fields-sick_note").check()
    pg.wait_for_timeout(600)  # debounced text input
    xml = pg.evaluate("async () => (await window.designer.modeler.saveXML()).xml")
    assert 'camunda:candidateGroups="dept_head"' in xml
    assert 'camunda:formKey="leave_request"' in xml
    assert 'hospital:sla="P2D"' in xml and 'hospital:countersign="any"' in xml
    assert 'hospital:readonlyFields="days,reason"' in xml and 'hospital:hiddenFields="sick_note"' in xml
    assert 'xmlns:hospital="http://hospital-workflow.org/schema/1.0/bpmn"' in xml

    pg.click("#btn-validate")
    pg.wait_for_function(
        f"""() => document.querySelector('#results-panel .panel-title').textContent.includes('(')
            && !document.querySelector("#results-panel tr.diag-row[data-element-id='{task_id}']")""",
        timeout=10000)
    assert pg.locator(f"g.djs-element.diag-error[data-element-id='{task_id}']").count() == 0
    _shot(pg, "designer-properties.png")

    # 4. dry-run highlights a path through the new task
    pg.click("#btn-dryrun")
    pg.click(".modal-buttons button[data-value='run']")
    pg.wait_for_selector(f"g.djs-element.dryrun-path[data-element-id='{task_id}']", timeout=10000)
    _shot(pg, "designer-dryrun.png")

    # 5. form designer: server-rendered preview follows edits
    pg.click("#nav-forms")
    pg.wait_for_selector("body[data-ready='true']", timeout=20000)
    pg.wait_for_function(f"() => {PREVIEW}?.textContent.includes('申请人')", timeout=10000)
    # the inbox's stylesheet and script are loaded in the preview
    pg.wait_for_selector("#form-preview[data-seq]", state="attached", timeout=10000)
    styled = pg.evaluate(f"""() => {{ const b = {PREVIEW};
        return [[...b.ownerDocument.styleSheets].some(s => s.href && s.href.endsWith('/static/css/app.css')),
                getComputedStyle(b.querySelector('form.task-form')).borderTopStyle]; }}""")
    assert styled == [True, "solid"], styled
    pg.select_option("#new-field-type", "enum")
    pg.click("#btn-add-field")
    card = pg.locator(".field-card").last
    card.locator(".f-title").fill("紧急程度")
    card.locator(".f-options").fill("普通\n加急")
    card.locator(".f-required").check()
    pg.wait_for_function("""() => {
        const p = """ + PREVIEW + """;
        return p && p.textContent.includes('紧急程度') && p.innerHTML.includes('加急'); }""", timeout=10000)
    schema = pg.input_value("#json-schema")
    assert "紧急程度" in schema and '"加急"' in schema
    _shot(pg, "designer-forms.png")

    # JSON view → fields (two-way)
    pg.fill("#json-schema", schema.replace("紧急程度", "优先级"))
    pg.click("#btn-apply-json")
    pg.wait_for_function(f"() => {PREVIEW}?.textContent.includes('优先级')", timeout=10000)
    assert pg.locator(".field-card .f-title").last.input_value() == "优先级"
    pg.click("#btn-save-form")
    pg.wait_for_selector(".toast-success")


def test_csrf_and_errors_are_visible(page, server_url):
    """Requests without a valid token are refused (403) and the UI shows it."""
    pg = page
    pg.goto(server_url + "/designer/")
    pg.wait_for_selector("body[data-ready='true']", timeout=20000)
    pg.evaluate("document.querySelector('meta[name=csrf-token]').content = 'wrong'")
    pg.click("#btn-save")
    toast = pg.locator(".toast-error").first
    toast.wait_for(timeout=10000)
    assert "没有权限" in toast.inner_text()


def test_open_diff_import_deploy_migrate(page, server_url, tmp_path):
    pg = page
    pg.goto(server_url + "/designer/")
    pg.wait_for_selector("body[data-ready='true']", timeout=20000)

    # Open leave_request v1 from the server list
    pg.click("#btn-open")
    pg.click(".modal tr[data-element-id='leave_request@1']")
    pg.wait_for_function("() => document.querySelector('#doc-title').textContent.startsWith('leave_request v1')")

    # Diff against the running version (v2 has readonlyFields on records_register)
    pg.click("#btn-diff")
    pg.wait_for_selector("g.djs-element.diff-changed[data-element-id='records_register']", timeout=10000)
    assert "hospital:readonlyFields" in pg.inner_text("#results-panel")
    _shot(pg, "designer-diff.png")

    # Migrate: instances list, reason required, report shown
    pg.click("#btn-migrate")
    pg.wait_for_selector(".modal .instances tr")
    pg.fill("#migrate-reason", "修正 SLA")
    pg.click(".modal-buttons button[data-value='go']")
    pg.wait_for_function("() => document.querySelector('#results-panel').innerText.includes('migrated')")

    # Import a Camunda Modeler file with a JUEL expression: server report + lint
    src = tmp_path / "camunda.bpmn"
    xml = (DESIGNER / "dev" / "sample-leave.bpmn").read_text(encoding="utf-8")
    src.write_text(xml.replace('camunda:candidateGroups="dept_head"',
                               'camunda:candidateGroups="${deptHead}" camunda:class="x.Y"'), encoding="utf-8")
    with pg.expect_file_chooser() as fc:
        pg.click("#btn-import")
    fc.value.set_files(str(src))
    pg.wait_for_selector("#results-panel tr.import-unsupported", timeout=10000)
    _shot(pg, "designer-import.png")

    # Deploy is refused with 422 and the diagnostics land in the problems panel
    pg.click("#btn-deploy")
    pg.fill("#deploy-comment", "test")
    pg.click(".modal-buttons button[data-value='deploy']")
    pg.wait_for_selector("#results-panel tr.diag-row[data-element-id='dept_review']", timeout=10000)
    assert pg.locator(".toast-error").count() >= 1

    # English toggle persists in localStorage
    pg.click("#lang-toggle")
    pg.wait_for_selector("body[data-ready='true']", timeout=20000)
    assert pg.locator("#btn-validate").inner_text() == "Validate"
    pg.click("#lang-toggle")
    pg.wait_for_selector("body[data-ready='true']", timeout=20000)


def test_correlation_key_is_a_process_attribute(page, server_url):
    """The engine reads hospital:correlationKey on the process only, so that is where the panel writes it."""
    pg = page
    pg.goto(server_url + "/designer/")
    pg.wait_for_selector("body[data-ready='true']", timeout=20000)
    header = pg.locator(".bio-properties-panel-group-header", has_text="医院扩展")
    header.wait_for(timeout=10000)  # nothing selected: the panel shows the process
    field = pg.locator("#bio-properties-panel-hospital-correlation-key")
    if not field.is_visible():
        header.click()
    field.fill("order_no")
    pg.wait_for_timeout(600)  # debounced text input
    xml = pg.evaluate("async () => (await window.designer.modeler.saveXML()).xml")
    assert re.search(r'<bpmn:process [^>]*hospital:correlationKey="order_no"', xml), xml
    assert "<bpmn:messageEventDefinition" not in xml

    # a message catch event offers the message name, and no (ineffective) correlation key of its own
    pg.evaluate("""() => { const m = window.designer.modeler;
        const shape = m.get('elementFactory').createShape({ type: 'bpmn:IntermediateCatchEvent',
            eventDefinitionType: 'bpmn:MessageEventDefinition' });
        m.get('modeling').createShape(shape, { x: 420, y: 400 }, m.get('canvas').getRootElement());
        m.get('selection').select(shape); }""")
    pg.locator("#bio-properties-panel-hospital-message-name").wait_for(timeout=10000)
    assert pg.locator("#bio-properties-panel-hospital-correlation-key").count() == 0
