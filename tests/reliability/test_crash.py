"""A crash mid-command leaves the last committed state intact (short CI version of crash_trials.py)."""
from __future__ import annotations

import pytest

from tests.reliability.crash_trials import completed_tasks, run_trials


@pytest.mark.commits
def test_kill_minus_nine_never_leaves_partial_state(ctx, database_url):
    assert run_trials(database_url, trials=5) == []
    assert completed_tasks(ctx) > 10, "the driver must have committed work between kills"
