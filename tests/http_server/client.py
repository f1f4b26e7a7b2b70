"""A raw HTTP/1.1 client for the server's tests: bytes out exactly as written, answers read as
the wire carries them (framing included), so malformed requests and the server's framing can be
checked."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import orjson


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    chunked: bool = False
    chunks: list[bytes] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def json(self) -> object:
        return orjson.loads(self.body)


class Wire:
    """One connection: send bytes, read answers one by one, see whether the server closed."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *_: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _more(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            if not self._more():
                raise ConnectionError(f"closed before {marker!r}: {self.buffer!r}")
        part, _, self.buffer = self.buffer.partition(marker)
        return part

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._more():
                raise ConnectionError("closed inside a body")
        part, self.buffer = self.buffer[:size], self.buffer[size:]
        return part

    def read(self, *, head: bool = False) -> Answer:
        """The next answer (1xx included); `head`: the answer to a HEAD request."""
        lines = self._until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.lower(), value.strip()))
        answer = Answer(status, headers, b"")
        if head or status in (204, 304) or status < 200:
            return answer
        if answer.header("transfer-encoding") == "chunked":
            answer.chunked = True
            while True:
                size = int(self._until(b"\r\n"), 16)
                if size == 0:
                    self._until(b"\r\n")
                    break
                answer.chunks.append(self._exactly(size))
                self._exactly(2)
            answer.body = b"".join(answer.chunks)
        elif (length := answer.header("content-length")) is not None:
            answer.body = self._exactly(int(length))
        else:
            while self._more():
                pass
            answer.body, self.buffer = self.buffer, b""
        return answer

    def closed(self, timeout: float = 3.0) -> bool:
        """The server ended the connection (nothing more came before its close)."""
        self.sock.settimeout(timeout)
        try:
            while self._more():
                pass
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        return True


def request(port: int, data: bytes, *, head: bool = False) -> Answer:
    with Wire(port) as wire:
        wire.send(data)
        return wire.read(head=head)


def get(target: str, *headers: str, version: str = "1.1") -> bytes:
    lines = [f"GET {target} HTTP/{version}", "host: test", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")
