"""What persisting one workflow step needs from the database, read in ONE statement.

`apply_workflow` used to ask separately for the instance's open human tasks, its highest task `seq`,
its open sign plans, its 加签 holds (waiting tasks, open before-signers), its message waits and whether
anyone subscribes to webhooks: seven round trips per command, most of them answering "none" for a
plain approval step. One SELECT now returns the open and waiting task rows together with those facts,
and each consumer skips its own query when the fact says there is nothing to find.

The read runs after `apply_workflow` has flushed the instance, so it sees what the separate queries
saw; nothing between it and the consumers creates plans, before-signers or message waits.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, exists, func, select
from sqlalchemy.orm import Session

from engine.models import HumanTask, MessageWait, Signer, SignPlan, WebhookSubscription
from engine.models import human_task as ht
from engine.models import operations as op


@dataclass(frozen=True)
class StepFacts:
    """An instance's live task rows and what else it has, as of the start of materialising a step."""

    open_rows: list[HumanTask]
    waiting_rows: list[HumanTask]
    max_seq: int
    open_plans: bool
    open_before_signers: bool
    message_waits: bool
    webhooks: bool


_ID = bindparam("instance_id")
_FACTS = select(
    select(func.max(HumanTask.seq)).where(HumanTask.instance_id == _ID).scalar_subquery().label("max_seq"),
    exists().where(SignPlan.instance_id == _ID, SignPlan.status == op.OPEN).label("open_plans"),
    exists().where(Signer.instance_id == _ID, Signer.kind == op.BEFORE, Signer.state == op.OPEN)
    .label("open_before_signers"),
    exists().where(MessageWait.instance_id == _ID).label("message_waits"),
    exists().where(WebhookSubscription.active.is_(True)).label("webhooks"),
).subquery("facts")
# One row of facts, outer-joined to the instance's open and waiting tasks (NULL task when it has none).
_STEP = (select(_FACTS, HumanTask).select_from(_FACTS)
         .outerjoin(HumanTask, and_(HumanTask.instance_id == _ID, HumanTask.state.in_([ht.OPEN, ht.WAITING])))
         .order_by(HumanTask.seq))


def read_step_facts(session: Session, instance_id: str) -> StepFacts:
    """Read the instance's open/waiting task rows and its other per-step facts in one statement."""
    rows = session.execute(_STEP, {"instance_id": instance_id}).all()
    first = rows[0]
    tasks = [row.HumanTask for row in rows if row.HumanTask is not None]
    return StepFacts(
        open_rows=[t for t in tasks if t.state == ht.OPEN],
        waiting_rows=[t for t in tasks if t.state == ht.WAITING],
        max_seq=first.max_seq or 0,
        open_plans=bool(first.open_plans),
        open_before_signers=bool(first.open_before_signers),
        message_waits=bool(first.message_waits),
        webhooks=bool(first.webhooks),
    )
