"""What a set of scopes grants: each write scope implies its read scope (`employee.info` grants
`employee.info.read`; see docs/architecture.md). The gateway authorizes with it, and the consent
ledger uses it to tell whether a new consent still covers an earlier grant."""

from __future__ import annotations

READ_SUFFIX = ".read"


def granted_scopes(scopes: frozenset[str]) -> frozenset[str]:
    """The scopes with the read scope each write scope implies."""
    return scopes | {scope + READ_SUFFIX for scope in scopes if not scope.endswith(READ_SUFFIX)}
