"""The control plane behind a reverse proxy: the request's client, scheme and host as the trusted
proxy saw them (`core.proxies`), so the terms-acceptance ledger, the consent ledger and the
sign-in throttle record the real client, and absolute redirects and the session cookie's
`Secure` flag follow the scheme the browser used.

Without trusted proxies (the default) the middleware is not installed at all.
"""

from __future__ import annotations

from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from termgate.core.proxies import TrustedProxies, effective_client

FORWARDED = (b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host")


class ProxyHeaders:
    """Rewrites `client`, `scheme` and the `host` header of the scope for a trusted peer."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("client"):
            self._rewrite(scope)
        await self.app(scope, receive, send)

    def _rewrite(self, scope: Scope) -> None:
        found: dict[bytes, list[str]] = {}
        for name, value in scope["headers"]:
            if name in FORWARDED:
                found.setdefault(name, []).append(value.decode("latin-1"))
        if not found:
            return
        joined = {name: ",".join(values) for name, values in found.items()}
        client = effective_client(
            scope["client"][0],
            joined.get(b"x-forwarded-for"),
            joined.get(b"x-forwarded-proto"),
            joined.get(b"x-forwarded-host"),
            self.trusted,
        )
        if client.address != scope["client"][0]:
            scope["client"] = (client.address, 0)  # the proxy's port says nothing of the client
        if client.scheme is not None:
            scope["scheme"] = client.scheme
        if client.host is not None:
            host = client.host.encode("latin-1")
            scope["headers"] = [
                *((n, v) for n, v in scope["headers"] if n != b"host"),
                (b"host", host),
            ]


class SessionCookies:
    """Starlette's session middleware whose cookie is `Secure` when the public URL is https or
    the request itself came over https (directly, or per a trusted proxy)."""

    def __init__(
        self, app: ASGIApp, secret_key: str, session_cookie: str, max_age: int, https_only: bool
    ) -> None:
        def sessions(secure: bool) -> SessionMiddleware:
            return SessionMiddleware(
                app,
                secret_key=secret_key,
                session_cookie=session_cookie,
                same_site="lax",
                https_only=secure,
                max_age=max_age,
            )

        self.plain = sessions(https_only)
        self.secure = sessions(True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = self.secure if scope.get("scheme") == "https" else self.plain
        await session(scope, receive, send)
