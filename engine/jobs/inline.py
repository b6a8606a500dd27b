"""The embedded worker: a daemon thread in the API process that runs due jobs (no Redis needed).

It wakes every `job_poll_seconds`, immediately after a command that queued work commits, and runs
`tick` every `tick_seconds`. Several processes may run one each: claiming is safe across processes.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from engine.jobs.worker import load_handlers, run_due_jobs, worker_name

log = logging.getLogger("engine.jobs.inline")


class InlineWorker:
    """Start with `start()`, stop with `stop()`; `ctx.extras["job_wakeup"]` is set while running."""

    def __init__(self, ctx: Any, *, poll_seconds: float | None = None, tick_seconds: float | None = None) -> None:
        self.ctx = ctx
        self.poll = poll_seconds if poll_seconds is not None else ctx.settings.job_poll_seconds
        self.tick_every = tick_seconds if tick_seconds is not None else ctx.settings.tick_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.jobs_run = 0

    def start(self) -> InlineWorker:
        load_handlers()
        self.ctx.extras["job_wakeup"] = self._wake.set
        self._thread = threading.Thread(target=self._loop, name="hwf-inline-worker", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self.ctx.extras.get("job_wakeup") == self._wake.set:
            self.ctx.extras.pop("job_wakeup", None)
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        from engine.background import tick

        worker_id = worker_name("inline")
        next_tick = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_tick:
                    tick(self.ctx)
                    next_tick = time.monotonic() + self.tick_every
                self.jobs_run += run_due_jobs(self.ctx, worker_id)
            except Exception:  # noqa: BLE001 - keep the worker alive (database restarts, …)
                log.exception("inline worker iteration failed")
            self._wake.wait(self.poll)
            self._wake.clear()


def start_inline_worker(ctx: Any) -> InlineWorker:
    """Start the embedded worker for an engine context (the API does this when Redis is not configured)."""
    return InlineWorker(ctx).start()
