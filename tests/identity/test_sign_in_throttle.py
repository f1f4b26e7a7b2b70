"""The sign-in throttle's counters: shared through Redis by every node (clause 3.3 c)."""

from __future__ import annotations

import uuid

from termgate.identity.throttle import SignInThrottle, ThrottlePolicy
from tests.conftest import free_port

REDIS = "redis://127.0.0.1:6379/0"
POLICY = ThrottlePolicy(account_failures=3, address_failures=100, window=60.0)


async def test_clause_3_3_c_throttle_holds_across_nodes_with_redis() -> None:
    nodes = [SignInThrottle(POLICY, REDIS), SignInThrottle(POLICY, REDIS)]
    account, address = f"{uuid.uuid4().hex}@example.nl", uuid.uuid4().hex
    try:
        waits = [await nodes[n % 2].attempt(account, address, "portal") for n in range(3)]
        assert waits == [0, 0, 0]
        for node in nodes:  # full on both nodes, whichever counted the attempts
            wait = await node.attempt(account, address, "portal")
            assert 0 < wait <= 20
        # Another page's accounts are counted apart.
        assert await nodes[0].attempt(account, address, "console") == 0
    finally:
        for node in nodes:
            await node.close()


async def test_clause_3_3_c_a_successful_sign_in_is_given_back() -> None:
    throttle = SignInThrottle(POLICY, REDIS)
    account, address = uuid.uuid4().hex, uuid.uuid4().hex
    try:
        for _ in range(10):
            assert await throttle.attempt(account, address, "connect") == 0
            await throttle.succeeded(account, address, "connect")
    finally:
        await throttle.close()


async def test_clause_3_3_c_throttle_counts_on_the_node_while_redis_is_down() -> None:
    throttle = SignInThrottle(POLICY, f"redis://127.0.0.1:{free_port()}/0")
    try:
        waits = [await throttle.attempt("ann@example.nl", "10.0.0.1", "portal") for _ in range(4)]
        assert waits[:3] == [0, 0, 0]
        assert waits[3] > 0
    finally:
        await throttle.close()
