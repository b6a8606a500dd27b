from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher


@pytest.fixture(scope="session")
def fast_hasher() -> PasswordHasher:
    """argon2 with tiny parameters so history checks stay fast in tests."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def redis_client() -> Iterator[object]:
    """Real local Redis, db 15, keys under a unique prefix removed afterwards."""
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, db=15, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("HWF_ALLOW_SKIP_REDIS") == "1":
            pytest.skip("no Redis at 127.0.0.1:6379")
        raise
    prefix = f"hwf-test:{uuid.uuid4().hex}:"
    client.test_prefix = prefix  # type: ignore[attr-defined]
    yield client
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()
