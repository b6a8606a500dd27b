"""Nonce stores for signed requests and SSO tokens: Redis when configured, else the database."""

from __future__ import annotations

from typing import Any

import redis
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from engine.context import EngineContext
from engine.identity._common import now
from engine.models import UsedNonce
from engine.security.nonces import NonceStore, RedisNonceStore

_PRUNE_EVERY = 256


class DbNonceStore:
    """``NonceStore`` on the ``used_nonces`` table; the primary key makes insert-if-absent atomic."""

    def __init__(self, ctx: EngineContext) -> None:
        self._ctx = ctx
        self._writes = 0

    def remember(self, key_id: str, nonce: str, expires_at: float) -> bool:
        """Record a nonce until ``expires_at`` (unix seconds); False if it was already used."""
        current = now(self._ctx).timestamp()
        self._writes += 1
        try:
            with self._ctx.db.unit_of_work() as session:
                if self._writes % _PRUNE_EVERY == 0:
                    session.execute(delete(UsedNonce).where(UsedNonce.expires_at < current))
                row = session.get(UsedNonce, (key_id[:160], nonce))
                if row is not None:
                    if row.expires_at > current:
                        return False
                    row.expires_at = expires_at
                    return True
                session.add(UsedNonce(key_id=key_id[:160], nonce=nonce, expires_at=expires_at))
                session.flush()
                return True
        except IntegrityError:  # a concurrent request inserted the same nonce first
            return False


def nonce_store(ctx: EngineContext) -> NonceStore:
    """The deployment's nonce store (cached in ``ctx.extras['nonce_store']``; tests may inject one)."""
    store: Any = ctx.extras.get("nonce_store")
    if store is None:
        if ctx.settings.redis_url:
            client = redis.Redis.from_url(ctx.settings.redis_url, socket_timeout=2)
            store = RedisNonceStore(client, clock=lambda: now(ctx).timestamp())
        else:
            store = DbNonceStore(ctx)
        ctx.extras["nonce_store"] = store
    return store
