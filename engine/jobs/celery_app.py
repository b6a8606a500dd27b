"""Celery app for scale-out: workers run jobs by id, beat finds due jobs in the database.

    celery -A engine.jobs.celery_app worker --pool=threads --concurrency=8
    celery -A engine.jobs.celery_app beat

Jobs live in the database; Redis only carries "run job <id>" messages. A lost message (Redis restart)
is re-dispatched by the next beat tick because the job is still due; a duplicate message is harmless
because claiming is conditional (only one worker wins, the lease blocks the rest).
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery

from engine.config import Settings
from engine.jobs.worker import due_job_ids, load_handlers, run_job_by_id, worker_name

log = logging.getLogger("engine.jobs.celery")
_settings = Settings()
app = Celery("hwf", broker=_settings.redis_url or "redis://127.0.0.1:6379/0")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    broker_connection_max_retries=None,
    broker_transport_options={"visibility_timeout": 3600},
    beat_schedule={
        "hwf-dispatch-due-jobs": {"task": "hwf.dispatch_due", "schedule": _settings.celery_beat_seconds},
        "hwf-tick": {"task": "hwf.tick", "schedule": _settings.tick_seconds},
    },
)
_ctx_lock = threading.Lock()
_ctx: Any = None


def engine_context() -> Any:
    """The worker process's engine context, opened on first use (not at import)."""
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            from engine.bootstrap import open_engine

            load_handlers()
            _ctx = open_engine(_settings)
        return _ctx


@app.task(name="hwf.run_job")
def run_job_task(job_id: str) -> str | None:
    """Claim and run one job; a no-op when another worker holds it or it is not due."""
    return run_job_by_id(engine_context(), job_id, worker_name("celery"))


@app.task(name="hwf.dispatch_due")
def dispatch_due() -> int:
    """Beat: send one `hwf.run_job` per due job id."""
    ids = due_job_ids(engine_context())
    for job_id in ids:
        run_job_task.delay(job_id)
    return len(ids)


@app.task(name="hwf.tick")
def tick_task() -> dict[str, int]:
    """Beat: timer start events, buffered-message matching and expiry, overdue scan."""
    from engine.background import tick

    return tick(engine_context())
