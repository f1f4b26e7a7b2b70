"""Which application answers a path: the gateway for its prefix and below, the control plane
for everything else (clause 3.2: a request reaches the API only through the gateway's steps)."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from termgate.server import TermgateServer


class _Recorder:
    def __init__(self) -> None:
        self.paths: list[str] = []

    async def handle(self, scope: Any, protocol: Any) -> None:
        self.paths.append(scope.path)

    __call__ = handle


class _Scope:
    def __init__(self, path: str) -> None:
        self.path = path


def _server(prefix: str) -> tuple[TermgateServer, _Recorder, _Recorder]:
    server = object.__new__(TermgateServer)  # the routing alone: no database, no upstream
    gateway, control = _Recorder(), _Recorder()
    server.prefix = prefix
    server._gateway_below = prefix + "/"  # as __init__ sets it
    server.gateway = gateway  # type: ignore[assignment]
    server.control = control  # type: ignore[assignment]
    return server, gateway, control


def _by_the_prefix(path: str, prefix: str) -> bool:
    """The rule as first written: the prefix, then the path's end or a `/`."""
    return path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/")


@given(
    st.lists(st.sampled_from(["/", "api", "apix", "a", "/api", "%2F", ".", "x", ""]), max_size=5)
)
def test_clause_3_2_the_gateway_answers_its_prefix_and_below_only(parts: list[str]) -> None:
    path = "".join(parts)
    server, gateway, control = _server("/api")
    asyncio.run(server.__rsgi__(_Scope(path), None))  # type: ignore[arg-type]
    answered = gateway.paths if _by_the_prefix(path, "/api") else control.paths
    assert answered == [path]
    assert len(gateway.paths) + len(control.paths) == 1


def test_clause_3_2_paths_beside_the_prefix_go_to_the_control_plane() -> None:
    for path, to_gateway in [
        ("/api", True),
        ("/api/", True),
        ("/api/x", True),
        ("/apix", False),
        ("/ap", False),
        ("/", False),
        ("", False),
        ("/v1/api", False),
    ]:
        server, gateway, _ = _server("/api")
        asyncio.run(server.__rsgi__(_Scope(path), None))  # type: ignore[arg-type]
        assert bool(gateway.paths) is to_gateway, path
