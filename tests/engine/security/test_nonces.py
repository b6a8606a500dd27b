from __future__ import annotations

import threading
import time

from engine.security.nonces import InMemoryNonceStore, RedisNonceStore


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_in_memory_first_time_only_until_expiry() -> None:
    clock = Clock()
    store = InMemoryNonceStore(clock, prune_every=2)
    assert store.remember("k1", "n1", 1010)
    assert not store.remember("k1", "n1", 1010)
    assert store.remember("k2", "n1", 1010)  # per key id
    clock.t = 1011
    assert store.remember("k1", "n1", 1020)  # expired entry can be reused
    store.remember("k3", "x", 1012)
    assert store.size() <= 3  # pruning happened


def test_in_memory_is_atomic_under_threads() -> None:
    store = InMemoryNonceStore()
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(store.remember("k", "same", time.time() + 60))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1


def test_redis_store_set_nx_ex(redis_client) -> None:
    prefix = redis_client.test_prefix
    store = RedisNonceStore(redis_client, prefix=prefix)
    now = time.time()
    assert store.remember("k1", "abc", now + 30)
    assert not store.remember("k1", "abc", now + 30)
    assert store.remember("k2", "abc", now + 30)
    ttl = redis_client.ttl(f"{prefix}k1:abc")
    assert 25 <= ttl <= 31
    # A past expiry still stores for at least one second (never a 0/negative EX).
    assert store.remember("k1", "old", now - 100)
    assert redis_client.ttl(f"{prefix}k1:old") >= 0


def test_redis_store_expires(redis_client) -> None:
    prefix = redis_client.test_prefix
    store = RedisNonceStore(redis_client, prefix=prefix)
    assert store.remember("k", "short", time.time() + 1)
    time.sleep(1.6)
    assert store.remember("k", "short", time.time() + 1)
