"""The developer's side of a case: replies with text and files (clause 4.2: the chance to rectify).

Files are evidence handed to the provider by someone who may be hostile, so: at most
`MAX_FILES` of at most `MAX_FILE_BYTES` each; the type is sniffed from the bytes (PDF, PNG, JPEG
or plain UTF-8 text), never taken from the upload's declared type; the name is reduced to a safe
base name with the extension of the sniffed type. They are kept in the database and served back
as downloads only (`Content-Disposition: attachment`, `nosniff`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from termgate.core.audit import record
from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.due_process import Case, CaseEvent, CaseFile
from termgate.db.models import Developer, new_id
from termgate.due_process.cases import ACTIVE, CaseState, add_event
from termgate.registry.developers import require_text

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FILES = 5
MAX_REPLY = 10_000
TYPES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def sniff(data: bytes) -> tuple[str, str] | None:
    """The content type and extension the bytes show, or None for anything not accepted."""
    for magic, content_type, extension in TYPES:
        if data.startswith(magic):
            return content_type, extension
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if TEXT_CONTROLS.search(decoded):
        return None
    return "text/plain", ".txt"


def safe_filename(name: str, extension: str) -> str:
    """A base name of letters, digits, dots, dashes and underscores, ending in `extension`."""
    base = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.split(r"[\\/]", base)[-1]
    stem = UNSAFE.sub("_", base.rsplit(".", 1)[0] if "." in base else base).strip("._-")
    return f"{(stem or 'file')[:80]}{extension}"


def checked_files(files: list[Upload]) -> list[tuple[Upload, str, str]]:
    """Each upload with its sniffed type and safe name, or a refusal naming the field."""
    given = [f for f in files if f.data or f.filename]
    if len(given) > MAX_FILES:
        raise RegistryError(f"files: at most {MAX_FILES} files per reply")
    checked = []
    for upload in given:
        if not upload.data:
            raise RegistryError(f"files: {safe_filename(upload.filename, '')!r} is empty")
        if len(upload.data) > MAX_FILE_BYTES:
            raise RegistryError(f"files: each file may be at most {MAX_FILE_BYTES // 1024} KiB")
        found = sniff(upload.data)
        if found is None:
            raise RegistryError("files: only PDF, PNG, JPEG or plain text files are accepted")
        content_type, extension = found
        checked.append((upload, content_type, safe_filename(upload.filename, extension)))
    return checked


async def developer_case(session: AsyncSession, developer: Developer, case_id: str) -> Case:
    """The developer's own case; anyone else's is not found."""
    case = await session.get(Case, case_id)
    if case is None or case.developer_id != developer.id:
        raise NotFoundError("no such case")
    return case


async def reply(
    session: AsyncSession,
    developer: Developer,
    case_id: str,
    *,
    text: str,
    files: list[Upload],
    now: datetime,
) -> CaseEvent:
    case = await developer_case(session, developer, case_id)
    if CaseState(case.state) not in ACTIVE:
        raise RegistryError(f"the case is {case.state}; it takes no more replies")
    body = require_text("reply", text, MAX_REPLY, multiline=True)
    accepted = checked_files(files)
    event = add_event(session, case, "reply", developer.email, body, now, "developer")
    for upload, content_type, name in accepted:
        session.add(
            CaseFile(
                id=new_id(),
                case_id=case.id,
                event_id=event.id,
                filename=name,
                content_type=content_type,
                size=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
                data=upload.data,
            )
        )
    case.updated_at = now
    count = f" with {len(accepted)} file(s)" if accepted else ""
    await record(session, developer.email, "case-reply", "case", case.id, f"reply{count}")
    return event


async def files_of(session: AsyncSession, case: Case) -> dict[str, list[CaseFile]]:
    """The case's files by the id of the event they came with (without their bytes)."""
    query = (
        select(CaseFile)
        .options(defer(CaseFile.data))
        .where(CaseFile.case_id == case.id)
        .order_by(CaseFile.filename)
    )
    found: dict[str, list[CaseFile]] = {}
    for item in await session.scalars(query):
        found.setdefault(item.event_id, []).append(item)
    return found


async def case_file(session: AsyncSession, case_id: str, file_id: str) -> CaseFile:
    item = await session.get(CaseFile, file_id)
    if item is None or item.case_id != case_id:
        raise NotFoundError("no such file")
    return item
