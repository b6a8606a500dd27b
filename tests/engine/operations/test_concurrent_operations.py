"""Two users acting on one instance at the same moment: exactly one wins, the other gets a clean
Conflict (or the defined result of re-running on the new state), nothing is lost or duplicated, and
the stored state stays consistent (`check_consistency`). On PostgreSQL the commands genuinely overlap
(see `race.py`): the loser's first transaction fails on the instance's row version and is retried."""
from __future__ import annotations

from collections import Counter

import pytest

from engine import (
    Subject,
    add_signer,
    check_consistency,
    complete_task,
    list_signers,
    remove_signer,
    send_back,
    transfer_task,
    withdraw,
)
from engine.errors import Conflict, PermissionDenied
from tests.conftest import sql
from tests.engine.operations.helpers import ALICE, E1, E2, E3, HEAD, HEAD2, open_nodes, start, task_of
from tests.engine.operations.race import Race, race

pytestmark = pytest.mark.commits

HEAD3 = Subject("dr_zhou", {"h1": frozenset({"dept_head"})})

def rounds(*names: str) -> list[str]:
    """Which command gets the head start, per round: each in turn (SQLite then covers both orders)."""
    return [*names, *names]


def rows(ctx, instance_id: str) -> Counter:
    """(node, who, state) of every human-task row of the instance, with multiplicity.

    who: the user who completed the row, else its assignee.
    """
    return Counter(tuple(r) for r in sql(ctx, "SELECT node_id, COALESCE(completed_by, assignee), state "
                                              "FROM human_tasks WHERE instance_id = :i", i=instance_id))


def assert_settled(ctx, run: Race, *, loser_errors: tuple[type[Exception], ...] = (Conflict,)) -> None:
    assert len(run.outcomes) == 2
    loser = run.loser()
    assert isinstance(loser.error, loser_errors), loser.error
    if ctx.db.is_postgres:  # both started from one snapshot: the loser ran again after the winner committed
        assert run.attempts >= 3, run.attempts
    assert check_consistency(ctx) == []


def test_send_back_against_the_deciding_vote(ctx):
    winners = set()
    for first in rounds("send_back", "vote"):
        view = start(ctx, "countersign", rule="ratio", signers=["e1", "e2", "e3"])
        complete_task(ctx, task_of(ctx, E1, view.id).id, E1, outcome="approve")
        e2, e3 = task_of(ctx, E2, view.id).id, task_of(ctx, E3, view.id).id
        run = race(ctx, first,
                   send_back=lambda e2=e2: send_back(ctx, e2, E2, target="applicant", reason="材料不全"),
                   vote=lambda e3=e3: complete_task(ctx, e3, E3, outcome="approve"))
        assert_settled(ctx, run)
        winners.add(run.winner)
        found = rows(ctx, view.id)
        if run.winner == "vote":  # 2 of 3 approved: the step passed, e2's vote was cancelled
            assert open_nodes(ctx, view.id) == [("archive", None)]
            assert found[("cs_ratio", "e2", "cancelled")] == 1 and found[("cs_ratio", "e3", "completed")] == 1
        else:  # sent back out of the countersign: e3's vote was cancelled
            assert open_nodes(ctx, view.id) == [("apply", "alice")]
            assert found[("cs_ratio", "e3", "cancelled")] == 1 and found[("cs_ratio", "e2", "completed")] == 1
        assert sum(n for (node, _, _), n in found.items() if node == "cs_ratio") == 3
    assert winners <= {"vote", "send_back"}


def test_withdraw_against_the_next_steps_completion(ctx):
    for first in rounds("withdraw", "complete"):
        view = start(ctx, "approval")
        review = task_of(ctx, HEAD, view.id).id
        run = race(ctx, first,
                   withdraw=lambda v=view.id: withdraw(ctx, v, ALICE, reason="填错了"),
                   complete=lambda r=review: complete_task(ctx, r, HEAD, outcome="approve"))
        assert_settled(ctx, run)
        found = rows(ctx, view.id)
        if run.winner == "complete":  # the next step acted first: nothing left to withdraw
            assert "已处理" in str(run.loser().error) or "acted" in str(run.loser().error)
            assert open_nodes(ctx, view.id) == [("finance_review", None)]
            assert found[("dept_review", "dr_wang", "completed")] == 1
        else:
            assert open_nodes(ctx, view.id) == [("apply", "alice")]
            assert found[("dept_review", None, "cancelled")] == 1
            assert not any(node == "finance_review" for node, _, _ in found)


def test_add_signer_into_a_ratio_plan_against_the_final_vote(ctx):
    """Whatever the order, the plan never passes with e4 still holding an open vote."""
    for first in rounds("add", "vote"):
        view = start(ctx, "countersign", rule="ratio", signers=["e1", "e2", "e3"])
        complete_task(ctx, task_of(ctx, E1, view.id).id, E1, outcome="approve")
        e2, e3 = task_of(ctx, E2, view.id).id, task_of(ctx, E3, view.id).id
        run = race(ctx, first,
                   add=lambda e2=e2: add_signer(ctx, e2, E2, "e4", position="countersign"),
                   vote=lambda e3=e3: complete_task(ctx, e3, E3, outcome="approve"))
        found = rows(ctx, view.id)
        if run.loser_or_none() is not None:  # the vote decided at 2 of 3 before e4 could join
            assert run.winner == "vote"
            assert_settled(ctx, run)
            assert open_nodes(ctx, view.id) == [("archive", None)]
            assert not any(assignee == "e4" for _, assignee, _ in found)
        else:
            # Defined retry result: the vote re-runs against four signers; 2 of 4 approvals do not reach
            # ceil(4 * 2/3) = 3, so the vote is recorded and the step stays open for e2 and e4.
            assert all(o.won for o in run.outcomes.values()), run.outcomes
            assert check_consistency(ctx) == []
            assert open_nodes(ctx, view.id) == [("cs_ratio", "e2"), ("cs_ratio", "e4")]
            assert found[("cs_ratio", "e3", "completed")] == 1 and found[("cs_ratio", "e4", "open")] == 1


def test_remove_signer_against_that_signers_vote(ctx):
    for first in rounds("remove", "vote"):
        view = start(ctx, "countersign", rule="all", signers=["e1", "e2"])
        [added] = add_signer(ctx, task_of(ctx, E1, view.id).id, E1, "e3", position="countersign")
        signer = next(s for s in list_signers(ctx, added.id, E1) if s.username == "e3")
        run = race(ctx, first,
                   remove=lambda s=signer.id: remove_signer(ctx, s, E1, reason="不需要了"),
                   vote=lambda a=added.id: complete_task(ctx, a, E3, outcome="approve"))
        assert_settled(ctx, run)
        found = rows(ctx, view.id)
        state = next(s.state for s in list_signers(ctx, added.id, E1) if s.username == "e3")
        if run.winner == "remove":
            assert state == "removed" and found[("cs_all", "e3", "cancelled")] == 1
        else:
            assert state == "approved" and found[("cs_all", "e3", "completed")] == 1
        assert sum(n for (_, assignee, _), n in found.items() if assignee == "e3") == 1
        assert open_nodes(ctx, view.id) == [("cs_all", "e1"), ("cs_all", "e2")]


def test_transfer_against_a_completion_by_another_pool_member(ctx):
    ctx.extras["roles_of"] = lambda user, inst: {"dr_zhou": {"dept_head"}}.get(user, set())
    for first in rounds("transfer", "complete"):
        view = start(ctx, "approval")
        review = task_of(ctx, HEAD, view.id).id
        run = race(ctx, first,
                   transfer=lambda r=review: transfer_task(ctx, r, HEAD, "dr_zhou", reason="休假"),
                   complete=lambda r=review: complete_task(ctx, r, HEAD2, outcome="approve"))
        # After a transfer wins, dr_li is no longer an actor of the task: the retried completion is denied.
        assert_settled(ctx, run, loser_errors=(Conflict, PermissionDenied))
        found = rows(ctx, view.id)
        if run.winner == "transfer":
            assert isinstance(run.loser().error, PermissionDenied)
            assert open_nodes(ctx, view.id) == [("dept_review", "dr_zhou")]
            assert task_of(ctx, HEAD3, view.id).id == review
        else:
            assert isinstance(run.loser().error, Conflict)
            assert open_nodes(ctx, view.id) == [("finance_review", None)]
            assert found[("dept_review", "dr_li", "completed")] == 1
        assert sum(n for (node, _, _), n in found.items() if node == "dept_review") == 1
