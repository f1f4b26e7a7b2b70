"""The control plane in-process (from tests/web); `published_operations` makes the operations of the
published contract known to it for one test (and forgets them after, so no other test sees
them), as if read from the upstream's document."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from termgate.governance.operations import forget, remember
from termgate.settings import Settings
from tests.support.contract import published_document
from tests.web.conftest import Site, seed_programme, settings, site

__all__ = ["Site", "seed_programme", "settings", "site"]


@pytest.fixture
def published_operations(settings: Settings) -> Iterator[None]:
    remember(settings, published_document())
    yield
    forget(settings)
