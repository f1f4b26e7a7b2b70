"""A py-spy sample of the gateway's worker, sorted into the request path's steps.

A sample is a stack of frames, root first, each `Class.function (file:line)`. The innermost frame
that a rule names decides the step: so the token cache inside identify counts as the token cache,
the upstream client's parser inside forward as "forward: parse". A sample with no frame of the
gateway's code is the event loop's own (uvloop between callbacks, the sockets' system calls); the
HTTP server's parsing and answering is a step of its own.
"""

from __future__ import annotations

IDLE = "idle (left out)"
# (step, function names or () for any, path fragment), tried in order on each frame.
RULES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    # aiosqlite's thread blocked in SimpleQueue.get (C, so no frame of its own): idle, not work.
    (IDLE, ("_connection_worker_thread",), "aiosqlite/core.py:59)"),
    ("usage event (record)", ("record", "_record_and_log"), "gateway/observe.py"),
    ("usage flusher", (), "gateway/observe.py"),
    ("usage flusher", (), "gateway/usage_rows.py"),
    ("usage flusher", (), "gateway/usage_spool.py"),
    ("usage flusher", (), "db/usage_"),  # the summaries and parties the writer adds to
    ("usage flusher", (), "aiosqlite/"),
    ("usage flusher", (), "sqlalchemy/"),
    ("token cache", (), "gateway/bearer.py"),
    ("token cache", (), "identity/tokens.py"),
    ("identify", (), "gateway/identify.py"),
    ("identify", (), "gateway/catalog.py"),
    ("identify", (), "gateway/matcher.py"),
    ("admit", (), "gateway/admit.py"),
    ("authorize", (), "gateway/authorize.py"),
    ("authorize", (), "gateway/tenancy/"),
    ("relay", ("relay_capped", "_read_ahead", "too_large"), "traffic/response_cap.py"),
    ("limits (RateLimit headers)", (), "traffic/ratelimit_headers.py"),
    ("limits", (), "gateway/traffic/"),
    ("header handling", ("request_head", "header_items", "client_ip"), "gateway/forward.py"),
    ("forward: parse", ("data_received", "on_header", "on_headers_complete"), "upstream_client/"),
    ("forward: parse", ("on_body", "on_message_complete", "_wake_ready"), "upstream_client/"),
    ("forward: write", ("start", "send_this_turn", "send_heads"), "upstream_client/pool.py"),
    (
        "forward: connect (pool)",
        ("acquire", "take_idle", "_connect", "release", "_sweep"),
        "upstream_client/",
    ),
    ("forward: wait for the answer", ("response_ready",), "upstream_client/"),
    ("forward: body", ("take_body", "next_body"), "upstream_client/"),
    ("relay", ("relay", "answer_problem"), "gateway/forward.py"),
    ("forward", ("open_exchange",), "gateway/forward.py"),
    ("pipeline (exchange, ids)", (), "gateway/exchange.py"),
    ("pipeline (exchange, ids)", (), "gateway/pipeline.py"),
    ("server interface", ("__rsgi__",), "termgate/server.py"),
    ("HTTP server (parse, answer)", (), "termgate/http_server/connection.py"),
    ("HTTP server (parse, answer)", (), "termgate/http_server/request.py"),
    ("snapshot refresh", (), "gateway/snapshot"),
)
SERVER = "event loop, sockets (no gateway frame)"
STEPS = (*dict.fromkeys(step for step, _, _ in RULES if step != IDLE), SERVER)


def _matches(frame: str, functions: tuple[str, ...], fragment: str) -> bool:
    name, _, where = frame.partition(" (")
    return fragment in where and (not functions or name.rpartition(".")[2] in functions)


def step_of(frames: list[str]) -> str:
    """The step of one sample (frames root first)."""
    for frame in reversed(frames):
        for step, functions, fragment in RULES:
            if _matches(frame, functions, fragment):
                return step
    return SERVER
