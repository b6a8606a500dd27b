"""Inbox tabs, filters, sorting, paging, counts; instance overview; start forms; statistics."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine import (
    EngineContext,
    InboxQuery,
    Settings,
    Subject,
    complete_task,
    deploy,
    deploy_directory,
    inbox_counts,
    inbox_facets,
    inbox_page,
    inbox_queries,
    instance_overview,
    start_form,
    start_instance,
    start_with_form,
    startable_processes,
    statistics,
    statistics_csv_rows,
)
from engine.config import PROJECT_ROOT
from engine.errors import PermissionDenied, ValidationFailed
from engine.inbox import visible_tasks
from tests.conftest import read_bundle

ALICE = Subject("alice", {"h1": frozenset({"staff"})})
BOB = Subject("bob", {"h2": frozenset({"staff"})})
HEAD = Subject("dr_wang", {"h1": frozenset({"dept_head"})})
HEAD2 = Subject("dr_li", {"h2": frozenset({"dept_head"})})
VALID = {"applicant_name": "张三", "amount": 1200, "reason": "购买耗材"}


@pytest.fixture
def deployed(ctx):
    return deploy(ctx, read_bundle("approval.bpmn"), actor="admin")


def _submitted(ctx, who=ALICE, institution="h1", **data):
    view = start_instance(ctx, "approval", initiator=who.username, institution=institution)
    complete_task(ctx, view.open_tasks[0].id, who, data={**VALID, **data})
    return view


def test_todo_tab_lists_claimable_tasks_with_process_and_applicant(ctx, deployed):
    _submitted(ctx)
    page = inbox_page(ctx, HEAD)
    [row] = page.rows
    assert (row.title, row.process_name, row.step, row.applicant, row.institution) == \
        ("张三 申请 1200元", "五级审批", "科室审核", "alice", "h1")
    assert page.total == 1 and page.counts["todo"] == 1 and not row.overdue
    assert inbox_page(ctx, HEAD2).rows == []


def test_filters_search_sort_and_paging(ctx, deployed, clock):
    for amount in (100, 200, 300):
        _submitted(ctx, amount=amount, applicant_name=f"申请人{amount}")
        clock.advance(hours=1)
    assert [r.title for r in inbox_page(ctx, HEAD).rows][0] == "申请人300 申请 300元"
    ascending = inbox_page(ctx, HEAD, InboxQuery(sort="received", descending=False, page_size=2))
    assert ascending.total == 3 and ascending.pages == 2 and ascending.rows[0].title.startswith("申请人100")
    second = inbox_page(ctx, HEAD, InboxQuery(sort="received", descending=False, page_size=2, page=2))
    assert [r.title for r in second.rows] == ["申请人300 申请 300元"]
    assert [r.title for r in inbox_page(ctx, HEAD, InboxQuery(search="申请人2")).rows] == ["申请人200 申请 200元"]
    assert inbox_page(ctx, HEAD, InboxQuery(process_key="nope")).total == 0
    assert inbox_page(ctx, HEAD, InboxQuery(institution="h1")).total == 3
    today = clock.now().date()
    assert inbox_page(ctx, HEAD, InboxQuery(received_from=today, received_to=today)).total == 3
    assert inbox_page(ctx, HEAD, InboxQuery(received_from=today + timedelta(days=1))).total == 0


def test_todo_total_comes_with_the_page_capped_and_past_the_last_page(ctx, deployed, clock, monkeypatch):
    for amount in (100, 200, 300):
        _submitted(ctx, amount=amount)
        clock.advance(hours=1)
    past_end = inbox_page(ctx, HEAD, InboxQuery(page=5, page_size=2))
    assert (past_end.rows, past_end.total, past_end.counts["todo"]) == ([], 3, 3)
    filtered = inbox_page(ctx, HEAD, InboxQuery(institution="h1", page_size=2))
    assert (len(filtered.rows), filtered.total, filtered.counts["todo"]) == (2, 3, 3)
    monkeypatch.setattr(inbox_queries, "COUNT_CAP", 2)
    capped = inbox_page(ctx, HEAD, InboxQuery(page_size=1))
    assert (capped.total, capped.capped, capped.has_next, capped.counts["todo"]) == (2, True, True, 2)
    assert inbox_page(ctx, HEAD, InboxQuery(tab="done")).counts["todo"] == 2


def test_open_state_is_in_the_sql_so_the_partial_index_applies():
    sql = str(visible_tasks(HEAD).compile(compile_kwargs={"render_postcompile": True}))
    assert "human_tasks.state = 'open'" in sql  # ix_human_tasks_open is WHERE state = 'open'


def test_overdue_flag_and_filter(ctx, deployed, clock):
    _submitted(ctx)
    assert inbox_page(ctx, HEAD, InboxQuery(overdue=True)).total == 0
    clock.advance(days=3)
    page = inbox_page(ctx, HEAD, InboxQuery(overdue=True))
    assert page.total == 1 and page.rows[0].overdue


def test_done_mine_and_counts(ctx, deployed):
    view = _submitted(ctx)
    task = inbox_page(ctx, HEAD).rows[0]
    complete_task(ctx, task.task_id, HEAD, outcome="approve")
    done = inbox_page(ctx, HEAD, InboxQuery(tab="done"))
    assert [(r.step, r.outcome) for r in done.rows] == [("科室审核", "approve")]
    mine = inbox_page(ctx, ALICE, InboxQuery(tab="mine"))
    assert [(r.instance_id, r.step, r.task_id) for r in mine.rows] == [(view.id, "财务审核", None)]
    assert inbox_page(ctx, BOB, InboxQuery(tab="mine")).total == 0
    assert inbox_page(ctx, ALICE, InboxQuery(tab="cc")).rows == []
    assert inbox_counts(ctx, HEAD)["todo"] == 0
    assert inbox_facets(ctx, HEAD)["processes"] == [("approval", "五级审批")]


def test_bad_query_values_are_normalized(ctx, deployed):
    page = inbox_page(ctx, HEAD, InboxQuery(tab="evil", sort="drop table", page=-3, page_size=10_000))
    assert (page.query.tab, page.query.sort, page.query.page, page.query.page_size) == ("todo", "received", 1, 100)


def test_instance_overview_is_for_participants_only(ctx, deployed, clock):
    view = _submitted(ctx)
    overview = instance_overview(ctx, view.id, ALICE)
    assert overview.node_states["apply"] == "completed"
    assert overview.node_states["dept_review"] == "current"
    assert [e.action for e in overview.timeline] == ["instance.start", "task.complete"]
    assert overview.timeline[1].step == "填写申请"
    assert list(overview.assignees.values()) == [["@dept_head"]]
    assert instance_overview(ctx, view.id, HEAD).instance.id == view.id  # candidate of the open step
    with pytest.raises(PermissionDenied):
        instance_overview(ctx, view.id, BOB)
    clock.advance(days=3)
    assert instance_overview(ctx, view.id, ALICE).node_states["dept_review"] == "overdue"


@pytest.fixture
def real(ctx) -> EngineContext:
    """The shipped processes need the shipped forms folder."""
    settings = Settings(database_url=ctx.settings.database_url, forms_dir=PROJECT_ROOT / "forms")
    real_ctx = EngineContext(settings=settings,
                             db=ctx.db, runtime=ctx.runtime, clock=ctx.clock, extras=dict(ctx.extras))
    deploy_directory(real_ctx, PROJECT_ROOT / "processes" / "approvals", actor="admin")
    return real_ctx


def test_startable_processes_follow_start_roles(real):
    doctor = Subject("dr_a", {"h1": frozenset({"doctor"}), "h2": frozenset({"nurse"})})
    keys = {p.process_key: p for p in startable_processes(real, doctor)}
    assert set(keys) == {"leave_request", "guest_meal", "surgery_application", "clinic_suspension"}
    assert keys["leave_request"].institutions == ["h1", "h2"]
    assert keys["surgery_application"].institutions == ["h1"]
    assert keys["leave_request"].form_key == "leave_apply"
    assert "handover" in keys["leave_request"].schema["properties"]
    assert startable_processes(real, Subject("x", {"h1": frozenset({"finance"})})) == []
    with pytest.raises(PermissionDenied):
        start_form(real, "surgery_application", Subject("n", {"h1": frozenset({"nurse"})}))


def test_start_with_form_validates_then_starts(real):
    nurse = Subject("nurse_a", {"h1": frozenset({"nurse"})})
    with pytest.raises(ValidationFailed) as err:
        start_with_form(real, "leave_request", nurse, institution="h1", data={"days": -1})
    assert "/days" in {e.pointer for e in err.value.errors}
    with pytest.raises(PermissionDenied):
        start_with_form(real, "leave_request", nurse, institution="h9", data={})
    data = {"applicant_name": "李护士", "employee_no": "N001", "department": "内科", "staff_type": "nurse",
            "leave_type": "annual", "start_date": "2026-02-01", "end_date": "2026-02-02", "days": 2,
            "reason": "休假"}
    view = start_with_form(real, "leave_request", nurse, institution="h1", data=data)
    assert view.title == "李护士 请假 2天" and view.open_tasks[0].node_id == "dept_head_review"


def test_statistics_by_process_institution_and_step(ctx, deployed, clock):
    _submitted(ctx)
    _submitted(ctx, who=BOB, institution="h2")
    task = inbox_page(ctx, HEAD).rows[0]
    clock.advance(hours=5)
    complete_task(ctx, task.task_id, HEAD, outcome="approve")
    clock.advance(days=5)
    admin = Subject("boss", {"h1": frozenset({"process_admin"}), "h2": frozenset({"process_admin"})})
    stats = statistics(ctx, admin)
    assert stats.by_process == {("approval", "running"): 2}
    assert stats.by_institution == {("h1", "running"): 1, ("h2", "running"): 1}
    steps = {s.node_id: s for s in stats.steps}
    assert steps["dept_review"].completed == 1 and steps["dept_review"].average_hours == 5.0
    assert steps["dept_review"].overdue_open == 1  # h2's task is past its P2D due date
    assert stats.overdue_open == 1
    assert statistics(ctx, HEAD).by_institution == {("h1", "running"): 1}
    assert statistics_csv_rows(stats)[0][0] == "section"


def test_staff_page_names_are_public():
    import engine
    assert {"inbox_page", "inbox_counts", "inbox_facets", "instance_overview", "definition_xml",
            "startable_processes", "start_form", "start_with_form", "statistics",
            "statistics_csv_rows"} <= set(engine.__all__)
