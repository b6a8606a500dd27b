"""Open the engine with its authorization policy installed (API, worker, CLI and benches start here)."""
from __future__ import annotations

from engine.clock import Clock
from engine.config import Settings
from engine.context import EngineContext, build_context
from engine.identity.policy import install_policy_hook


def open_engine(settings: Settings | None = None, clock: Clock | None = None) -> EngineContext:
    """Build the engine context and install the Casbin decision hook.

    Authorization is deny-by-default (`engine.permissions`): a context without the hook refuses every
    role-based action, so every process that serves users or runs jobs opens the engine here. The hook does
    no I/O now; the policy is loaded from the database on the first decision.
    """
    ctx = build_context(settings, clock)
    install_policy_hook(ctx)
    return ctx
