"""Inbox before/after of stop 13, alternated call by call (bench/inbox_scale.py runs one build for ~20 s,
then the other: on this shared 2-core machine the load moves between the two blocks more than the change).

Two byte-identical copies of one generated database (`CREATE DATABASE … TEMPLATE …`), one without and one
with ix_human_tasks_open, and one process that alternates four combinations per call:
  * query shape "base": what main had before stop 13, rebuilt by swapping two internals back: `state` bound
    as a parameter (inbox.OPEN_STATE) and the 待办 total as a separate capped COUNT (inbox_queries._page_ids);
  * query shape "new": this branch;
  × database without / with the partial index.
Reported per user and view: p50 / p95 wall ms and server (backend) CPU ms per engine.inbox_page() call.

Run: .venv/bin/python bench/inbox_ab.py --without hwf_perf_inbox_noidx --with hwf_perf_inbox [--repeat 30]
     [--users dept_head '3 roles']
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from _http import load
from inbox_scale import typical_users
from sqlalchemy import event

import engine
from engine import inbox, inbox_queries
from engine.models import human_task as ht

NEW_PAGE_IDS, NEW_OPEN_STATE = inbox_queries._page_ids, inbox.OPEN_STATE


def base_page_ids(session, q, ids):  # noqa: ANN001, ANN201 - the pre-stop-13 page statement
    paged = ids.order_by(*inbox_queries._task_order(q)).limit(q.page_size).offset((q.page - 1) * q.page_size)
    return list(session.scalars(paged)), None  # None: the caller counts with a separate capped COUNT


def use_shape(shape: str) -> None:
    inbox_queries._page_ids = NEW_PAGE_IDS if shape == "new" else base_page_ids
    inbox.OPEN_STATE = NEW_OPEN_STATE if shape == "new" else ht.OPEN


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--without", required=True, help="database copy without ix_human_tasks_open")
    p.add_argument("--with", dest="with_", required=True, help="database copy with ix_human_tasks_open")
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--users", nargs="*", default=[], help="only users whose label contains one of these")
    a = p.parse_args()
    ctxs, pids = {}, {}
    for key, db in (("noidx", a.without), ("idx", a.with_)):
        ctxs[key] = engine.open_engine(engine.Settings(
            database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}", inline_worker=False))
        event.listen(ctxs[key].db.engine, "checkout",
                     lambda dbapi, rec, proxy, key=key: pids.__setitem__(key, dbapi.info.backend_pid))

    def cpu_ms(key: str) -> float:
        with open(f"/proc/{pids[key]}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")

    combos = [("base", "noidx"), ("new", "idx"), ("base", "idx"), ("new", "noidx")]
    print(f"({load()})  each cell: p50 / p95 wall ms / server CPU ms per call")
    print(f"  {'user':36s}{'view':13s}" + "".join(f"{s + ' + ' + d:>22s}" for s, d in combos))
    for label, subject in typical_users():
        if a.users and not any(u in label for u in a.users):
            continue
        for view, q in (("default", engine.InboxQuery()), ("sort by due", engine.InboxQuery(sort="due")),
                        ("done tab", engine.InboxQuery(tab="done"))):
            wall: dict[tuple[str, str], list[float]] = {c: [] for c in combos}
            cpu = dict.fromkeys(combos, 0.0)
            for i in range(a.repeat + 5):  # 5 warm-ups, also past psycopg's prepare threshold
                for shape, db in combos:
                    use_shape(shape)
                    engine.inbox_page(ctxs[db], subject, q)  # checks out the connection measured next
                    c0, t = cpu_ms(db), time.perf_counter()
                    engine.inbox_page(ctxs[db], subject, q)
                    if i >= 5:
                        wall[(shape, db)].append((time.perf_counter() - t) * 1000)
                        cpu[(shape, db)] += cpu_ms(db) - c0
            cells = []
            for c in combos:
                w = sorted(wall[c])
                cells.append(f"{statistics.median(w):7.1f}/{w[max(0, int(len(w) * 0.95) - 1)]:6.1f}/"
                             f"{cpu[c] / a.repeat:5.1f}")
            print(f"  {label:36s}{view:13s}" + "".join(f"{c:>22s}" for c in cells), flush=True)
    use_shape("new")
    print(f"done ({load()})")


if __name__ == "__main__":
    main()
