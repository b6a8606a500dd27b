"""Run two engine commands at once so that they genuinely overlap.

On PostgreSQL each command's transaction stops before its first write until the other has read its
state too (a barrier in `before_flush`), so both decide from the same snapshot and the instance's
`row_version` makes one of them lose and retry. SQLite serializes writers in `Database.unit_of_work`,
so there the two commands run one after the other, in either order.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from engine.errors import EngineError

HEAD_START_SECONDS = 0.05


@dataclass
class Outcome:
    name: str
    result: Any = None
    error: EngineError | None = None

    @property
    def won(self) -> bool:
        return self.error is None


@dataclass
class Race:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    attempts: int = 0  # transactions opened by the two commands (retries included)

    @property
    def winner(self) -> str:
        (name,) = [o.name for o in self.outcomes.values() if o.won]
        return name

    def loser_or_none(self) -> Outcome | None:
        failed = [o for o in self.outcomes.values() if not o.won]
        return failed[0] if failed else None

    def loser(self) -> Outcome:
        (outcome,) = [o for o in self.outcomes.values() if not o.won]
        return outcome


class _Lockstep:
    """Holds each thread's first write until the other thread has reached its own (PostgreSQL only)."""

    def __init__(self, overlap: bool) -> None:
        self.overlap, self.local = overlap, threading.local()
        self.barrier = threading.Barrier(2, timeout=10)

    def arm(self) -> None:
        self.local.held = False

    def before_flush(self, _session: Any, _flush_context: Any, _instances: Any) -> None:
        if self.overlap and not getattr(self.local, "held", True):
            self.local.held = True
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:  # the other command failed before writing anything
                pass


def race(ctx: Any, first: str | None = None, **commands: Callable[[], Any]) -> Race:
    """Run the named commands in two threads at once; engine errors are collected, others re-raised.

    first: the command that starts a moment earlier. On SQLite this decides the order (so a test can
    cover both); on PostgreSQL both still read before either writes.
    """
    assert len(commands) == 2
    result, crashes, lock = Race(), [], threading.Lock()
    start, lockstep = threading.Barrier(2), _Lockstep(ctx.db.is_postgres)
    original_run = ctx.db.run

    def counted_run(command: Callable[[Any], Any], retries: int = 3) -> Any:
        def attempt(session: Any) -> Any:
            with lock:
                result.attempts += 1
            return command(session)
        return original_run(attempt, retries=retries)

    def play(name: str, command: Callable[[], Any]) -> None:
        lockstep.arm()
        start.wait()
        if first is not None and name != first:
            time.sleep(HEAD_START_SECONDS)
        try:
            result.outcomes[name] = Outcome(name, result=command())
        except EngineError as exc:
            result.outcomes[name] = Outcome(name, error=exc)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            crashes.append(exc)
        lockstep.barrier.abort()  # never leave the other thread waiting for a write that will not come

    event.listen(ctx.db.sessions, "before_flush", lockstep.before_flush)
    ctx.db.run = counted_run
    try:
        threads = [threading.Thread(target=play, args=item) for item in commands.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        del ctx.db.run
        event.remove(ctx.db.sessions, "before_flush", lockstep.before_flush)
    if crashes:
        raise crashes[0]
    return result
