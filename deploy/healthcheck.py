"""The container's HEALTHCHECK: exit 0 when this node's GET /healthz answers 200 within 3 s.

Standard library only, so it starts in a fraction of the time the `termgate` command takes. It
asks the port the node listens on (TERMGATE_PORT), over https when termgate serves TLS itself
(TERMGATE_TLS_CERT_FILE set); the certificate is not checked, since it names the public host,
not the loopback this asks.
"""

from __future__ import annotations

import os
import ssl
import sys
import urllib.request

LISTEN_ANY = {"", "0.0.0.0", "::", "[::]"}


def main() -> int:
    host = os.environ.get("TERMGATE_HOST", "127.0.0.1")
    if host in LISTEN_ANY:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = os.environ.get("TERMGATE_PORT", "8000")
    tls = bool(os.environ.get("TERMGATE_TLS_CERT_FILE"))
    context = ssl._create_unverified_context() if tls else None
    url = f"{'https' if tls else 'http'}://{host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=3, context=context) as answer:
            return 0 if answer.status == 200 else 1
    except (OSError, ValueError) as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
