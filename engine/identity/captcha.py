"""Graphic captcha for logins after a failed attempt (seed 003 1.4: not on the first try, shown after a
wrong password, checked on the server).

A challenge is a row with its answer and a 5-minute lifetime; the API renders the answer as a
distorted image and never sends the text. A login uses a challenge once, right or wrong.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from engine.context import EngineContext
from engine.identity._common import aware, now
from engine.models import LoginCaptcha

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to confuse
LENGTH = 4
LIFETIME = timedelta(minutes=5)


def issue_captcha(ctx: EngineContext) -> str:
    """A new challenge id (expired challenges are cleared on the way)."""
    def tx(session: Session) -> str:
        at = now(ctx)
        session.execute(delete(LoginCaptcha).where(LoginCaptcha.expires_at <= at))
        row = LoginCaptcha(answer="".join(secrets.choice(ALPHABET) for _ in range(LENGTH)), expires_at=at + LIFETIME)
        session.add(row)
        session.flush()
        return row.id

    return ctx.db.run(tx)


def captcha_text(ctx: EngineContext, captcha_id: str) -> str | None:
    """The text to draw for a live challenge (for the image only), else None."""
    row = ctx.db.read(lambda session: session.get(LoginCaptcha, captcha_id))
    return row.answer if row is not None and aware(row.expires_at) > now(ctx) else None


def passes_captcha(ctx: EngineContext, session: Session, captcha_id: str | None, answer: str | None) -> bool:
    """Check an answer (case does not matter) and use the challenge up."""
    row = session.get(LoginCaptcha, captcha_id) if captcha_id else None
    if row is None:
        return False
    session.delete(row)
    given = (answer or "").strip().upper()
    return aware(row.expires_at) > now(ctx) and hmac.compare_digest(row.answer.encode(), given.encode())
