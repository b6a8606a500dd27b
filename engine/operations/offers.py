"""What a subject may do on one task right now: the operations the task page offers.

Every answer is the decision the commands enforce (`permissions.allows`, the bool form of `authorize`)
plus the state checks each command makes (task open, instance running, no assignee before a claim …).
It is cheap on purpose: one joined read of the task and its instance and a few indexed look-ups; only
"withdraw" restores the workflow, and only for someone who has a completed task there to take back
(what follows their step is in the Spiff tree). The commands re-check everything, so an offer is a
hint, not a grant.
"""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.models import human_task as ht
from engine.models import instance as inst
from engine.operations._common import OWNER_DECISIONS, Loaded, load_task_links
from engine.operations.claims import returnable
from engine.operations.sendback import withdrawable
from engine.operations.signers import removable, step_signers
from engine.permissions import allows
from engine.subject import Subject

# Operations on the open task itself: offered when the task is open and `authorize` would pass.
ON_OPEN_TASK = ("complete", "send_back", "transfer", "delegate", "add_signer")


def _offers(ctx: EngineContext, session: Session, subject: Subject, loaded: Loaded,
            delegated: bool) -> Iterator[str]:
    task, instance = loaded.task, loaded.instance
    assert task is not None

    def may(action: str, on_task: bool = True) -> bool:
        return allows(ctx, session, subject, action, task if on_task else None, instance)

    running = instance.status == inst.RUNNING
    if running and task.state == ht.OPEN:
        yield from (name for name in ON_OPEN_TASK
                    if may(name) and not (delegated and name in OWNER_DECISIONS))
        if not task.assignee and may("claim"):
            yield "claim"
        if returnable(subject, task) and may("unclaim"):
            yield "unclaim"
    if running and any(removable(ctx, session, subject, s, instance) for s in step_signers(session, task)):
        yield "remove_signer"
    if withdrawable(ctx, session, subject, loaded):
        yield "withdraw"
    if running and may("urge", on_task=False):
        yield "urge"
    if may("cc", on_task=False):
        yield "cc"
    if may("comment"):
        yield from ("comment", "attach")  # add_attachment authorizes as "comment"


def task_actions(ctx: EngineContext, subject: Subject, task_id: str) -> list[str]:
    """The operations the subject may perform on the task now, in display order.

    Names: complete, send_back, transfer, delegate, add_signer, claim, unclaim, remove_signer,
    withdraw, urge, cc, comment, attach. Each is what the command of that name would allow, decided by
    the same authorization (`engine.permissions`); a refusal is not audited here (nothing was tried).

    Raises:
        NotFound: No such task.
    """
    with ctx.db.unit_of_work() as session:
        loaded, grant, _ = load_task_links(session, task_id)  # the active delegation comes with the task row
        return list(_offers(ctx, session, subject, loaded, delegated=grant is not None))
