"""Evidence uploads: a size cap, the type read from the content (never the name or the client's
word), and a file name reduced to safe characters."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from termgate.governance.errors import PolicyInputError

SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_FILES = 5


@dataclass(frozen=True)
class Evidence:
    filename: str
    media_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def sniff(content: bytes) -> tuple[str, str] | None:
    """(media type, extension) of a PDF, PNG, JPEG or UTF-8 text, or None for anything else."""
    for signature, media_type, extension in SIGNATURES:
        if content.startswith(signature):
            return media_type, extension
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    return "text/plain", ".txt"


def safe_filename(name: str, extension: str) -> str:
    """The name's last path segment in safe characters, ending in the sniffed type's extension."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = UNSAFE.sub("_", base.rsplit(".", 1)[0]).strip("._")[:80] or "evidence"
    return f"{stem}{extension}"


def checked_evidence(name: str, content: bytes, max_bytes: int) -> Evidence:
    if not content:
        raise PolicyInputError("evidence", f"{name or 'the file'} is empty")
    if len(content) > max_bytes:
        raise PolicyInputError("evidence", f"{name or 'the file'} is larger than {max_bytes} bytes")
    kind = sniff(content)
    if kind is None:
        raise PolicyInputError(
            "evidence", f"{name or 'the file'} is not a PDF, PNG, JPEG or text file"
        )
    media_type, extension = kind
    return Evidence(safe_filename(name, extension), media_type, content)
