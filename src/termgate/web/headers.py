"""Security headers on every control-plane response (the gateway's proxied answers never pass here).

Pages may load scripts, styles and images from this origin only: no inline script, no inline
style, no plugin, and no other site may frame them (clickjacking of the consent page). Answers
that are not pages (JSON, files) get a policy that allows nothing at all. HSTS is sent when the
public URL is https, so a browser never falls back to plain http.

`form-action` is deliberately absent: the consent form's answer redirects to the application's
own redirect URI on another origin, and browsers apply `form-action` to that redirect.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000"


def _common(https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]
    if https:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class SecurityHeaders:
    """Adds the headers a response does not set itself."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.common = _common(https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._complete(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _complete(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in headers}
        content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
        policy = PAGE_POLICY if content_type.startswith(b"text/html") else OTHER_POLICY
        wanted = [*self.common, (b"content-security-policy", policy.encode())]
        return headers + [(name, value) for name, value in wanted if name not in present]
