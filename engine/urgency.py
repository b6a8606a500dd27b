"""Task urgency: the level the inbox shows and filters on (普通 / 紧急 / 特急), and what 催办 does to it.

A task's `priority` comes from its form data (0 normal, 1 urgent, 2 and above critical). 催办 lifts it
to `URGENT_PRIORITY` plus that level, so urged tasks sort first, count as at least urgent (紧急) and
keep a critical level they already had.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_

URGENT_PRIORITY = 100  # tasks at or above this priority have been urged (催办)
LEVELS = (0, 1, 2)  # 普通 normal, 紧急 urgent, 特急 critical


def is_urged(priority: int) -> bool:
    return priority >= URGENT_PRIORITY


def level_of(priority: int) -> int:
    """The inbox level of a priority; an urged task is at least urgent (1)."""
    if is_urged(priority):
        return max(1, min(priority - URGENT_PRIORITY, 2))
    return min(max(priority, 0), 2)


def urged_priority(priority: int) -> int:
    """The priority of a task after 催办 (unchanged if it was urged before)."""
    return priority if is_urged(priority) else URGENT_PRIORITY + level_of(priority)


def level_is(priority: ColumnElement[int], level: int) -> ColumnElement[bool]:
    """SQL for `level_of(priority) == level` (the inbox urgency filter)."""
    return {
        0: priority <= 0,
        1: or_(priority == 1, and_(priority >= URGENT_PRIORITY, priority <= URGENT_PRIORITY + 1)),
        2: or_(and_(priority >= 2, priority < URGENT_PRIORITY), priority >= URGENT_PRIORITY + 2),
    }[level]
