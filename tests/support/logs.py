"""`logs.configure` on a buffer for a test, with the test runner's own handlers back afterwards."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator

import pytest
import structlog

from termgate.core import logs

Configure = Callable[[str], io.StringIO]


@pytest.fixture
def configured() -> Iterator[Configure]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    def configure(wanted: str) -> io.StringIO:
        buffer = io.StringIO()
        logs.configure("info", wanted, buffer)
        return buffer

    yield configure
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
