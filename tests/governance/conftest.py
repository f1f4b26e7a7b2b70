"""The control plane in-process (from tests/web) with the reference API's operations known."""

from __future__ import annotations

from tests.web.conftest import Site, seed_programme, settings, site

__all__ = ["Site", "seed_programme", "settings", "site"]
