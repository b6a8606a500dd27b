"""One-time nonce stores shared by request signing and SSO hand-off tokens.

``remember`` is atomic "insert if absent": it returns True the first time a
(key_id, nonce) pair is seen and False afterwards until the entry expires.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol


class NonceStore(Protocol):
    """Anti-replay store."""

    def remember(self, key_id: str, nonce: str, expires_at: float) -> bool:
        """Record a nonce until ``expires_at`` (unix seconds); False if already seen."""
        ...


class InMemoryNonceStore:
    """Process-local store for the embedded deployment and tests (thread-safe).

    Not shared between processes: with several API replicas use :class:`RedisNonceStore`.
    """

    def __init__(self, clock: Callable[[], float] = time.time, *, prune_every: int = 1024) -> None:
        self._clock = clock
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._prune_every = prune_every
        self._writes = 0

    def remember(self, key_id: str, nonce: str, expires_at: float) -> bool:
        """See :meth:`NonceStore.remember`."""
        now = self._clock()
        with self._lock:
            self._writes += 1
            if self._writes % self._prune_every == 0:
                self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
            key = (key_id, nonce)
            exp = self._seen.get(key)
            if exp is not None and exp > now:
                return False
            self._seen[key] = expires_at
            return True

    def size(self) -> int:
        """Entries currently held, expired ones included until the next prune.

        (Deliberately not ``__len__``: an empty store must not be falsy.)
        """
        return len(self._seen)


class _RedisLike(Protocol):
    def set(self, name: str, value: Any, *, ex: int | None = ..., nx: bool = ...) -> Any: ...


class RedisNonceStore:
    """Shared store on Redis using ``SET key 1 NX EX ttl`` (atomic across replicas)."""

    def __init__(
        self, redis: _RedisLike, *, prefix: str = "hwf:nonce:", clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._clock = clock

    def remember(self, key_id: str, nonce: str, expires_at: float) -> bool:
        """See :meth:`NonceStore.remember`."""
        ttl = max(1, math.ceil(expires_at - self._clock()))
        return bool(self._redis.set(f"{self._prefix}{key_id}:{nonce}", b"1", ex=ttl, nx=True))
