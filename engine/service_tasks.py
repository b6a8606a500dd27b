"""Service tasks: queue a connector call when a ConnectorTask is reached, complete it with the result.

The call happens in a `connector` job after the command commits. On success a new command completes
the SpiffWorkflow task, storing the result under `hospital:resultVariable` (default `<node_id>_result`)
and advancing the workflow. Failures are retried by the worker with back-off; after the last attempt an
incident is opened (engine/incidents.py).

When the definition has x-sensitive form fields the job row holds the parameters sealed as one value
(``params_sealed``, engine/security/form_fields.py): they may carry the patient's ID number or phone
under any name. The connector itself gets them in plain.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine import audit, pii
from engine.background import all_workflows, load_workflow, spiff_task
from engine.bpmn.specs.connector_task import ConnectorTask
from engine.connectors import call_connector
from engine.context import EngineContext
from engine.errors import Conflict
from engine.jobs.errors import JobError
from engine.jobs.queue import enqueue, job_handler
from engine.models import Instance, Job
from engine.security.form_fields import PREFIX

log = logging.getLogger("engine.connectors")


def result_variable(task_spec: Any) -> str:
    ext = getattr(task_spec, "extensions", {}) or {}
    return ext.get("resultVariable") or f"{task_spec.bpmn_id}_result"


def _parameters(ctx: EngineContext, task: Any) -> tuple[dict[str, Any] | None, str | None]:
    expressions = (task.task_spec.extensions or {}).get("inputParameters", {})
    try:
        return {name: ctx.runtime.evaluate(expr, task.data) for name, expr in expressions.items()}, None
    except Exception as exc:  # noqa: BLE001 - a bad expression becomes an incident, not a failed command
        return None, f"{type(exc).__name__}: {exc}"


def schedule_connector_calls(ctx: EngineContext, session: Session, instance: Instance, workflow: Any) -> None:
    """Enqueue one `connector` job per STARTED ConnectorTask (deduplicated by SpiffWorkflow task id)."""
    for sub in all_workflows(workflow):
        for task in sub.get_tasks(state=TaskState.STARTED):
            if not isinstance(task.task_spec, ConnectorTask):
                continue
            params, error = _parameters(ctx, task)
            payload = {"instance_id": instance.id, "task_id": str(task.id), "node_id": task.task_spec.bpmn_id,
                       "connector": task.task_spec.connector, "params": params, "param_error": error}
            if params and ctx.runtime.serializer.sensitive_fields(workflow.spec):
                payload["params"], payload["params_sealed"] = None, _seal_params(ctx, str(task.id), params)
            enqueue(session, "connector", payload, run_at=ctx.clock.now(), instance_id=instance.id,
                    dedupe_key=f"connector:{task.id}", max_attempts=ctx.settings.connector_max_attempts)


def _seal_params(ctx: EngineContext, task_id: str, params: dict[str, Any]) -> str:
    cipher = ctx.runtime.serializer.codec.cipher  # type: ignore[union-attr]
    text = json.dumps(params, ensure_ascii=False, default=str)
    return PREFIX + cipher.encrypt(text, context=f"jobs.connector.params:{task_id}")


def job_params(ctx: EngineContext, payload: dict[str, Any]) -> dict[str, Any]:
    """A connector job's parameters in plain (opened when the row holds them sealed)."""
    sealed = payload.get("params_sealed")
    if not sealed:
        return dict(payload.get("params") or {})
    cipher = ctx.runtime.serializer.codec.cipher  # type: ignore[union-attr]
    return dict(json.loads(cipher.decrypt(sealed[len(PREFIX):],
                                          context=f"jobs.connector.params:{payload['task_id']}")))


def reseal_params(ctx: EngineContext, payload: dict[str, Any]) -> dict[str, Any] | None:
    """A connector job's payload with `params_sealed` re-encrypted under the current key, or None when it
    holds no sealed parameters or they are under the current key already (key rotation, engine/reseal.py)."""
    sealed = payload.get("params_sealed")
    cipher = ctx.runtime.serializer.codec.cipher  # type: ignore[union-attr]
    if not sealed or not cipher.needs_reencrypt(sealed[len(PREFIX):]):
        return None
    new = cipher.reencrypt(sealed[len(PREFIX):], context=f"jobs.connector.params:{payload['task_id']}")
    return {**payload, "params_sealed": PREFIX + new}


def complete_service_task(ctx: EngineContext, instance_id: str, task_id: str, result: Any, *,
                          actor: str = "system", action: str = "connector.complete", reason: str = "") -> bool:
    """Complete a waiting ConnectorTask with a result and advance the instance (one transaction).

    Returns:
        False when the task no longer waits (already completed by an earlier run or a skip).
    """
    def command(session: Session) -> bool:
        return complete_in_session(ctx, session, instance_id, task_id, result, actor=actor, action=action,
                                   reason=reason)

    return ctx.db.run(command, retries=ctx.settings.command_retries)


def complete_in_session(ctx: EngineContext, session: Session, instance_id: str, task_id: str, result: Any, *,
                        actor: str, action: str, reason: str = "") -> bool:
    from engine.instances import apply_workflow

    try:
        instance, definition, workflow = load_workflow(ctx, session, instance_id)
    except Conflict:
        return False
    task = spiff_task(workflow, task_id)
    if task is None or task.state != TaskState.STARTED or not isinstance(task.task_spec, ConnectorTask):
        return False
    task.data[result_variable(task.task_spec)] = result
    task.complete()
    ctx.runtime.advance(workflow)
    apply_workflow(ctx, session, instance, definition, workflow)
    audit.append(session, actor=actor, action=action, at=ctx.clock.now(), instance_id=instance.id,
                 reason=reason, payload=result, digest_key=pii.digest_key(ctx),
                 details={"node_id": task.task_spec.bpmn_id, "connector": task.task_spec.connector})
    return True


@job_handler("connector")
def _run_connector_job(ctx: EngineContext, job: Job) -> None:
    p = job.payload
    if p.get("param_error"):
        raise JobError(f"参数表达式错误 (input parameter failed): {p['param_error']}", retryable=False)
    # The same key on every attempt: a remote that honours it applies the call once.
    result = call_connector(ctx, p["connector"], job_params(ctx, p),
                            idempotency_key=f"{p['instance_id']}:{p['task_id']}")
    complete_service_task(ctx, p["instance_id"], p["task_id"], result)


@job_handler("connector_call")
def _run_connector_call(ctx: EngineContext, job: Job) -> None:
    """A fire-and-forget connector call (escalation notices); no task waits for it."""
    p = job.payload
    call_connector(ctx, p["connector"], p.get("params") or {}, idempotency_key=p.get("idempotency_key") or job.id)
