"""task_actions: what the task page offers is what the commands would allow, from the same decision."""
from __future__ import annotations

import pytest

from engine import (
    add_signer,
    claim_task,
    complete_task,
    list_signers,
    remove_signer,
    task_actions,
    unclaim_task,
    withdraw,
)
from engine.errors import Conflict, NotFound, PermissionDenied
from tests.engine.operations.helpers import (
    ADMIN,
    ALICE,
    ARCHIVIST,
    EXPERTS,
    FINANCE,
    HEAD,
    HEAD2,
    MEDICAL,
    STRANGER,
    start,
    task_of,
)

ON_OPEN = {"complete", "send_back", "transfer", "delegate", "add_signer", "cc", "comment", "attach"}


def test_pooled_task_offers_claim_and_the_open_task_operations(ctx):
    view = start(ctx, "approval")
    task = task_of(ctx, HEAD)
    assert set(task_actions(ctx, HEAD, task.id)) == ON_OPEN | {"claim"}
    # the applicant reads, urges and may still take the application back; she does not act on the step
    assert set(task_actions(ctx, ALICE, task.id)) == {"withdraw", "urge", "cc", "comment", "attach"}
    assert task_actions(ctx, STRANGER, task.id) == []
    assert task_actions(ctx, FINANCE, task.id) == []
    assert set(task_actions(ctx, ADMIN, task.id)) >= ON_OPEN | {"claim", "urge"}  # admins may override
    with pytest.raises(NotFound):
        task_actions(ctx, HEAD, "no-such-task")
    assert view.status == "running"


def test_claim_unclaim_follow_the_assignee(ctx):
    start(ctx, "approval")
    task = claim_task(ctx, task_of(ctx, HEAD).id, HEAD)
    assert "unclaim" in task_actions(ctx, HEAD, task.id) and "claim" not in task_actions(ctx, HEAD, task.id)
    assert task_actions(ctx, HEAD2, task.id) == []  # the pool no longer sees it
    unclaim_task(ctx, task.id, HEAD)
    assert "claim" in task_actions(ctx, HEAD2, task.id)


def test_withdraw_is_offered_while_nobody_acted_after_me(ctx):
    view = start(ctx, "approval")
    task = task_of(ctx, HEAD)
    complete_task(ctx, task.id, HEAD, outcome="approve", data={})
    # the applicant's next step has been acted on: withdraw would be refused, so it is not offered
    assert "withdraw" not in task_actions(ctx, ALICE, task.id)
    with pytest.raises(Conflict):
        withdraw(ctx, view.id, ALICE)
    # the approver may take back the approval while finance has not acted; the done task is read-only
    offered = task_actions(ctx, HEAD, task.id)
    assert "withdraw" in offered and "complete" not in offered and "transfer" not in offered
    withdraw(ctx, view.id, HEAD, reason="再看看")


def test_remove_signer_offered_to_who_added_them_and_agrees_with_the_command(ctx):
    start(ctx, "countersign", rule="all", signers=["e1", "e2"])
    e1, e2 = EXPERTS["e1"], EXPERTS["e2"]
    [added] = add_signer(ctx, task_of(ctx, e1).id, e1, "e3", position="countersign")
    assert "remove_signer" in task_actions(ctx, e1, task_of(ctx, e1).id)
    assert "remove_signer" not in task_actions(ctx, e2, task_of(ctx, e2).id)
    for subject in (e2, e1):  # every signer marked removable is accepted, every other one refused
        for signer in list_signers(ctx, added.id, subject):
            if signer.removable:
                remove_signer(ctx, signer.id, subject, reason="不需要了")
            else:
                with pytest.raises((PermissionDenied, Conflict)):
                    remove_signer(ctx, signer.id, subject)
    assert not any(s.removable for s in list_signers(ctx, task_of(ctx, e1).id, e1))


def _withdraw_offer_agrees(ctx, subject, task_id, instance_id):
    """Whether withdraw was offered on the task page, asserting the command then agrees."""
    offered = "withdraw" in task_actions(ctx, subject, task_id)
    try:
        withdraw(ctx, instance_id, subject)
        accepted = True
    except (Conflict, NotFound, PermissionDenied):
        accepted = False
    assert offered == accepted, (subject.username, offered)
    return offered


def test_withdraw_offer_agrees_with_the_command_across_a_parallel_split(ctx):
    view = start(ctx, "parallel")
    b2 = task_of(ctx, HEAD)
    complete_task(ctx, b2.id, HEAD, outcome="approve")
    assert _withdraw_offer_agrees(ctx, HEAD, b2.id, view.id)  # the join still waits for the sibling branch
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    b1_a = task_of(ctx, FINANCE)
    complete_task(ctx, b1_a.id, FINANCE, outcome="approve")
    assert _withdraw_offer_agrees(ctx, HEAD, b2.id, view.id)  # finance acting later is not "after" b2
    complete_task(ctx, task_of(ctx, HEAD).id, HEAD, outcome="approve")
    assert _withdraw_offer_agrees(ctx, FINANCE, b1_a.id, view.id)
    complete_task(ctx, task_of(ctx, FINANCE).id, FINANCE, outcome="approve")
    complete_task(ctx, task_of(ctx, MEDICAL).id, MEDICAL, outcome="approve")
    archive = task_of(ctx, ARCHIVIST)
    for subject in (HEAD, FINANCE, MEDICAL, ALICE):  # the branches have joined: nobody may take theirs back
        assert not _withdraw_offer_agrees(ctx, subject, archive.id, view.id)
