"""The provider console: review queue, developers, applications, keys, terms, audit, mail."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    return []
