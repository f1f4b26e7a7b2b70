"""The control plane in-process (from tests/web); `reference_api` makes the reference API's
operations known to it for one test (and forgets them after, so no other test sees them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from termgate.governance.operations import forget, remember
from termgate.reference_api import build_openapi
from termgate.settings import Settings
from tests.web.conftest import Site, seed_programme, settings, site

__all__ = ["Site", "seed_programme", "settings", "site"]


@pytest.fixture
def reference_api(settings: Settings) -> Iterator[None]:
    remember(settings, build_openapi())
    yield
    forget(settings)
