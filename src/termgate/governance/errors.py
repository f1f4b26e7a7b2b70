"""Refusals of the governance functions: bad input names the field it is about."""

from __future__ import annotations

from termgate.core.errors import RegistryError


class PolicyInputError(RegistryError):
    """The input is not valid; nothing was changed. `field` names what to correct."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class PolicyConflictError(RegistryError):
    """The input is well formed but the calendar or the API does not allow it now (a window
    that is already cancelled, a moment that has passed); nothing was changed."""
