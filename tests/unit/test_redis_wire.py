"""The limiter's own Redis client (`gateway/traffic/redis_wire.py`): replies read whole however
they arrive, every request's answer its own on the one shared connection, and the failure modes
of clause 4.4 kept: a script Redis forgot is loaded again, a connection Redis closes is made
again, a restart is survived, a bad setup counts as Redis away (never an exception upward).

The tests that stop Redis or flush its scripts use a private redis-server of their own."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import struct
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from termgate.gateway.traffic import redis_limiter as limiter_module
from termgate.gateway.traffic.gcra import ADMITTED, APP_RATE, UNAVAILABLE
from termgate.gateway.traffic.plan_limits import PlanLimits
from termgate.gateway.traffic.redis_limiter import SCRIPT_SHA, RedisLimiter
from termgate.gateway.traffic.redis_wire import (
    INCOMPLETE,
    RedisWire,
    Reply,
    ReplyError,
    RespConnection,
    bulk,
    encode,
    parse,
)
from tests.gateway.limits_support import PrivateRedis
from tests.support.limiter_grant import Grant
from tests.unit.test_limits_redis import NOON, REDIS_URL, silent_redis

# The limiter's answer for two decisions: sixteen packed integers, one bulk string. 2573 is
# packed as b"\r\n\x00...": the reply is read by its length, not up to a CRLF.
VERDICTS = (0, 0, 9, 6000000, -1, 0, 12, 345, 1, 2573, 0, 60000000, 0, 0, 12, 345)
PACKED = struct.pack("<16q", *VERDICTS)
ANSWER = b"$128\r\n" + PACKED + b"\r\n"


def test_the_limiters_answer_is_read_as_one_string_of_packed_integers() -> None:
    assert b"\r\n" in PACKED
    assert parse(ANSWER, 0) == (PACKED, len(ANSWER))
    assert parse(b"*2\r\n:3\r\n:-4\r\n", 0) == ([3, -4], 13)


def test_a_reply_cut_anywhere_waits_for_the_rest() -> None:
    for cut in range(len(ANSWER)):
        assert parse(ANSWER[:cut], 0)[0] is INCOMPLETE, cut


def test_every_reply_kind_is_read() -> None:
    replies = b"+OK\r\n$3\r\nabc\r\n$-1\r\n*-1\r\n:-7\r\n"
    replies += b"*2\r\n$0\r\n\r\n*1\r\n:5\r\n-NOSCRIPT x\r\n"
    read, at = [], 0
    while at < len(replies):
        reply, at = parse(replies, at)
        read.append(reply)
    error = read.pop()
    assert read == [b"OK", b"abc", None, None, -7, [b"", [5]]]
    assert isinstance(error, ReplyError)
    assert str(error) == "NOSCRIPT x"


def test_a_bulk_string_holding_crlf_is_read_by_its_length() -> None:
    assert parse(b"$4\r\na\r\nb\r\n", 0) == (b"a\r\nb", 10)
    assert parse(b"$4\r\na\r\nb", 0)[0] is INCOMPLETE


def test_a_byte_stream_that_is_no_reply_is_refused() -> None:
    with pytest.raises(ConnectionError, match="not a Redis reply"):
        parse(b"HTTP/1.1 200 OK\r\n", 0)
    with pytest.raises(ValueError, match="invalid literal"):
        parse(b":12x\r\n", 0)


async def test_clause_4_4_replies_arriving_in_any_pieces_reach_their_commands_in_order() -> None:
    """The limiter's answers and other replies, one stream cut at every place: each command
    gets its own reply whole."""
    other = PACKED[:64]
    stream = ANSWER + b"+OK\r\n" + b"$64\r\n" + other + b"\r\n" + b"*1\r\n:5\r\n"
    expected = [PACKED, b"OK", other, [5]]
    loop = asyncio.get_running_loop()
    for cut in range(len(stream) + 1):
        connection = RespConnection(timeout=1.0)
        futures: list[asyncio.Future[Reply]] = []
        for _ in expected:
            futures.append(loop.create_future())
            connection.waiting.append((futures[-1], loop.time() + 1.0))
        for piece in (stream[:cut], stream[cut:]):
            if piece:
                connection.data_received(piece)
        assert [future.result() for future in futures] == expected, cut
        assert (connection.buffer, connection.closed) == (b"", False)


def test_commands_are_encoded_as_arrays_of_bulk_strings() -> None:
    assert encode(b"INCRBY", b"k\r\n", b"5") == b"*3\r\n$6\r\nINCRBY\r\n$3\r\nk\r\n\r\n$1\r\n5\r\n"


async def test_clause_4_4_concurrent_decisions_share_one_connection_and_stay_exact(
    own_redis: PrivateRedis,
) -> None:
    limiter = RedisLimiter(own_redis.url, timeout=2.0)
    grant = Grant(PlanLimits(rate=20))
    verdicts = await asyncio.gather(*(limiter.acquire(grant, NOON) for _ in range(50)))
    assert sorted(verdict.refused for verdict in verdicts) == [ADMITTED] * 20 + [APP_RATE] * 30
    assert sorted(verdict.app_left for verdict in verdicts if not verdict.refused) == list(
        range(20)
    )
    assert limiter.client.connections_made == 1
    await limiter.close()


async def test_clause_4_4_a_cancelled_decision_leaves_the_others_their_own_answers(
    own_redis: PrivateRedis,
) -> None:
    limiter = RedisLimiter(own_redis.url, timeout=2.0)
    five, ten = Grant(PlanLimits(rate=5)), Grant(PlanLimits(rate=10), app_counter="app-2")
    await limiter.acquire(ten, NOON)  # connected: the next two are written at once
    first = asyncio.create_task(limiter.acquire(five, NOON))
    second = asyncio.create_task(limiter.acquire(ten, NOON))
    await asyncio.sleep(0)  # both commands are on the wire
    first.cancel()
    verdict = await second
    assert (verdict.refused, verdict.app_left) == (ADMITTED, 8)  # ten's answer, not five's
    assert (await limiter.acquire(five, NOON)).app_left == 3  # the cancelled one counted
    await limiter.close()


async def test_clause_4_4_a_script_redis_forgot_is_loaded_again(
    own_redis: PrivateRedis, inspect: redis.asyncio.Redis
) -> None:
    limiter = RedisLimiter(own_redis.url, timeout=2.0)
    grant = Grant(PlanLimits(rate=2))
    assert (await limiter.acquire(grant, NOON)).refused == ADMITTED
    await inspect.script_flush()
    assert await inspect.script_exists(SCRIPT_SHA.decode()) == [False]
    assert (await limiter.acquire(grant, NOON)).refused == ADMITTED  # NOSCRIPT, then EVAL
    assert (await limiter.acquire(grant, NOON)).refused == APP_RATE
    assert await inspect.script_exists(SCRIPT_SHA.decode()) == [True]
    assert not limiter.down
    await limiter.close()


async def test_clause_4_4_a_connection_redis_closes_is_made_again_by_the_next_decision(
    own_redis: PrivateRedis, inspect: redis.asyncio.Redis
) -> None:
    limiter = RedisLimiter(own_redis.url, timeout=2.0)
    grant = Grant(PlanLimits(rate=3))
    assert (await limiter.acquire(grant, NOON)).app_left == 2
    own_id = await limiter.client.call(encode(b"CLIENT", b"ID"))
    assert await inspect.client_kill_filter(_id=str(own_id)) == 1
    await asyncio.sleep(0.1)  # the close reaches the limiter's connection
    verdict = await limiter.acquire(grant, NOON)
    assert (verdict.refused, verdict.app_left, limiter.down) == (ADMITTED, 1, False)
    assert limiter.client.connections_made == 2
    await limiter.close()


async def test_clause_4_4_a_restarted_redis_is_found_again_after_a_second(
    own_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RedisLimiter(own_redis.url, timeout=2.0)
    limiter.own_clock = False
    grant = Grant(PlanLimits(rate=3))
    assert (await limiter.acquire(grant, NOON)).app_left == 2
    own_redis.stop()
    with caplog.at_level(logging.WARNING):
        assert (await limiter.acquire(grant, NOON)).refused == ADMITTED  # this node's own
        assert limiter.down
        own_redis.start()  # empty, without the script
        back = await limiter.acquire(grant, NOON + 1)
    assert (back.refused, back.app_left, limiter.down) == (ADMITTED, 2, False)
    assert caplog.records[-1].getMessage().startswith("Redis is reachable again")
    await limiter.close()


async def test_clause_4_4_a_refused_connection_setup_counts_as_redis_away(
    caplog: pytest.LogCaptureFixture,
) -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError as error:
        pytest.skip(f"needs the local Redis at {REDIS_URL}: {error}")
    # The local Redis has no password: AUTH is refused, and the limiter treats it as away.
    limiter = RedisLimiter("redis://:wrong@127.0.0.1:6379/0", failure="closed", timeout=2.0)
    with caplog.at_level(logging.ERROR):
        verdict = await limiter.acquire(Grant(PlanLimits(rate=3)), NOON)
    assert (verdict.refused, limiter.down) == (UNAVAILABLE, True)
    assert "AUTH" in caplog.records[-1].getMessage()
    await limiter.close()


async def test_the_url_chooses_the_database() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError as error:
        pytest.skip(f"needs the local Redis at {REDIS_URL}: {error}")
    prefix = f"tgtest:{uuid.uuid4().hex[:12]}:"
    limiter = RedisLimiter("redis://127.0.0.1:6379/3", prefix=prefix, timeout=2.0)
    grant = Grant(PlanLimits(rate=3))
    await limiter.acquire(grant, NOON)
    await limiter.close()
    key = f"{prefix}r:app-1"
    database_3 = redis.Redis.from_url("redis://127.0.0.1:6379/3")
    assert database_3.exists(key) == 1
    assert redis.Redis.from_url(REDIS_URL).exists(key) == 0
    database_3.delete(key)


async def test_a_closed_client_connects_again_when_used() -> None:
    wire = RedisWire(REDIS_URL, timeout=2.0)
    try:
        assert await wire.call(encode(b"PING")) == b"PONG"
    except OSError as error:
        pytest.skip(f"needs the local Redis at {REDIS_URL}: {error}")
    await wire.aclose()
    assert await wire.call_all([encode(b"PING"), encode(b"ECHO", b"x")]) == [b"PONG", b"x"]
    assert wire.connections_made == 2
    await wire.aclose()


@pytest.fixture
def unix_redis(tmp_path: Path) -> Iterator[Path]:
    """A private redis-server listening on a unix socket only."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    path = tmp_path / "redis.sock"
    command = [binary, "--port", "0", "--unixsocket", str(path), "--save", ""]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if path.exists():
                break
            time.sleep(0.05)
        yield path
    finally:
        server.terminate()
        server.wait(10)


async def test_a_unix_socket_url_reaches_redis(unix_redis: Path) -> None:
    limiter = RedisLimiter(f"unix://{unix_redis}", timeout=2.0)
    assert (await limiter.acquire(Grant(PlanLimits(rate=3)), NOON)).app_left == 2
    await limiter.close()


async def test_clause_4_4_requests_waiting_for_one_connection_share_its_one_timeout() -> None:
    with silent_redis(backlog=0) as (url, silent):
        fillers = []
        for _ in range(3):  # fill the listener's queue: further connection attempts hang
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(silent.getsockname())
            fillers.append(filler)
        limiter = RedisLimiter(url, failure="closed")
        started = time.monotonic()
        verdicts = await asyncio.wait_for(
            asyncio.gather(*(limiter.acquire(Grant(PlanLimits(rate=5)), NOON) for _ in range(6))),
            5,
        )
        elapsed = time.monotonic() - started
        await limiter.close()
        for filler in fillers:
            filler.close()
    assert [verdict.refused for verdict in verdicts] == [UNAVAILABLE] * 6
    assert limiter.client.connections_made == 1
    assert elapsed < 1.0  # one timeout of 0.25 s for all six, not six in a row


async def test_clause_4_4_an_answer_that_is_not_the_scripts_counts_as_redis_away(
    own_redis: PrivateRedis, inspect: redis.asyncio.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The limiter asks for a script that answers something else (a real script on the real
    # Redis): refused as Redis away (503 in closed mode), never an exception upward.
    other = await inspect.script_load("return 'surprise'")
    monkeypatch.setattr(limiter_module, "EVALSHA", bulk(b"EVALSHA") + bulk(other.encode()))
    limiter = RedisLimiter(own_redis.url, failure="closed", timeout=2.0)
    verdict = await limiter.acquire(Grant(PlanLimits(rate=5)), NOON)
    assert (verdict.refused, limiter.down) == (UNAVAILABLE, True)
    await limiter.close()
