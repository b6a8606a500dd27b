"""ISO-8601 due dates for tasks (durations like PT4H/P3D, or absolute datetimes)."""
from __future__ import annotations

from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


def due_from(expression: str, start: datetime) -> datetime:
    """Resolve a due-date expression relative to `start`.

    Raises:
        ValueError: when the text is neither an ISO duration nor an ISO datetime.
    """
    text = expression.strip().strip("'\"")
    if text.upper().startswith("P"):
        parsed = TimerEventDefinition.parse_iso_duration(text)
        return start + TimerEventDefinition.get_timedelta_from_start(parsed, start)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
