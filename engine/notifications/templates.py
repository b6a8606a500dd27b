"""Message templates rendered with Jinja2 (allowed in the engine for message templates only).

A sandboxed environment: templates are product text, but the values come from process data.
"""
from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES: dict[str, tuple[str, str]] = {
    # kind: (title, body)
    "assigned": ("新的待办：{{ title }}",
                 "「{{ step }}」等待您处理{% if due_at %}，请于 {{ due_at }} 前完成{% endif %}。"),
    "urged": ("【催办】{{ title }}",
              "{{ actor }} 催促您尽快处理「{{ step }}」。{% if reason %}留言：{{ reason }}{% endif %}"),
    "cc": ("抄送：{{ title }}", "{{ actor }} 将流程抄送给您，仅供查阅。{% if reason %}说明：{{ reason }}{% endif %}"),
    "sent_back": ("退回：{{ title }}", "{{ actor }} 将「{{ step }}」退回给您。原因：{{ reason }}"),
    "completed": ("已办结：{{ title }}", "您发起的流程已{{ '通过' if outcome != 'reject' else '结束' }}。"),
    "overdue": ("已超时：{{ title }}", "「{{ step }}」已超过办理时限（{{ due_at }}）。"),
    "delegated": ("委派：{{ title }}", "{{ actor }} 委派您处理「{{ step }}」，处理后将交回 {{ actor }}。"),
    "returned": ("委派已处理：{{ title }}", "{{ actor }} 已处理您委派的「{{ step }}」，请完成办理。"),
    "transferred": ("转办：{{ title }}", "{{ actor }} 将「{{ step }}」转交给您办理。"),
    "withdrawn": ("已撤回：{{ title }}", "{{ actor }} 撤回了「{{ step }}」，您的待办已取消。"),
}

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True)
_compiled = {kind: (_env.from_string(t), _env.from_string(b)) for kind, (t, b) in TEMPLATES.items()}


def render(kind: str, values: dict[str, Any]) -> tuple[str, str]:
    """Render (title, body) of one notification kind.

    Raises:
        KeyError: unknown kind.
    """
    title, body = _compiled[kind]
    defaults = {"title": "", "step": "", "actor": "", "reason": "", "due_at": None, "outcome": None}
    merged = {**defaults, **values}
    return title.render(merged)[:300], body.render(merged)
