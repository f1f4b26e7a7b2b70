"""termgate's HTTP/1.1 server: the request path's own server (docs/architecture.md, "the server").

One event loop per worker parses requests with llhttp (httptools) and runs the application in the
same thread, so a request costs no hand-off between threads (docs/performance.md). It serves the
part of RSGI termgate uses (`Request` is both the scope and the protocol of a request).
"""

from termgate.http_server.request import Headers, ProtocolClosedError, Request
from termgate.http_server.serve import Limits, Server, run

__all__ = ["Headers", "Limits", "ProtocolClosedError", "Request", "Server", "run"]
