"""Refusals of the control plane: a message a person can act on, and nothing changed."""

from __future__ import annotations


class RegistryError(ValueError):
    """The request cannot be carried out; the message says why in words a person can act on."""


class NotFoundError(RegistryError):
    """A developer, application, product or key that the request names does not exist."""
