"""Statistics page: counts by process/state/institution, average step durations, overdue; CSV export."""
from __future__ import annotations

import csv
import io
import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

import engine
from api.pages.common import PageCtx, PageSubject, html_errors, parse_date, render, t
from engine import Statistics

router = APIRouter(include_in_schema=False)


def _load(request: Request, ctx: PageCtx, subject: PageSubject) -> Statistics:
    p = request.query_params
    return engine.statistics(ctx, subject, institution=p.get("institution") or None,
                             since=parse_date(p.get("from")), until=parse_date(p.get("to")))


def _charts(request: Request, stats: Statistics) -> str:
    statuses = stats.statuses()
    processes = sorted({k for k, _ in stats.by_process})
    institutions = sorted({i for i, _ in stats.by_institution})
    label = {s: t(request, f"status.{s}") for s in statuses}
    return json.dumps({
        "byProcess": {"labels": [stats.process_names.get(k, k) for k in processes],
                      "series": [{"label": label[s], "status": s,
                                  "data": [stats.by_process.get((k, s), 0) for k in processes]}
                                 for s in statuses]},
        "byInstitution": {"labels": institutions,
                          "series": [{"label": label[s], "status": s,
                                      "data": [stats.by_institution.get((i, s), 0) for i in institutions]}
                                     for s in statuses]},
        "durations": {"labels": [f"{stats.process_names.get(s.process_key, s.process_key)} · {s.step}"
                                 for s in stats.steps],
                      "data": [s.average_hours for s in stats.steps], "label": t(request, "stats.avg_hours")},
    }, ensure_ascii=False)


@router.get("/stats", response_class=HTMLResponse)
@html_errors
def stats_page(request: Request, ctx: PageCtx, subject: PageSubject) -> HTMLResponse:
    stats = _load(request, ctx, subject)
    return render(request, "stats.html", stats=stats, charts=_charts(request, stats), nav_active="stats",
                  query=request.url.query, filters=request.query_params)


@router.get("/stats.csv")
@html_errors
def stats_csv(request: Request, ctx: PageCtx, subject: PageSubject) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in engine.statistics_csv_rows(_load(request, ctx, subject)):
        # Spreadsheet formula injection: a cell starting with = + - @ is shown as text.
        writer.writerow([f"'{c}" if c[:1] in ("=", "+", "-", "@") else c for c in row])
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="statistics.csv"'})
