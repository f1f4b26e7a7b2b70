"""The usage events' local spool (clause 4.1): what a hard kill of the process would lose.

Each worker process appends the events it has recorded but not yet written to the database to a
segment file of its own, a few milliseconds after the request ends (one `write` per tick, no
fsync: the data is in the kernel's page cache, which a killed process does not take with it).
When a batch reaches the database the segment that holds it is deleted. A segment whose writer
is gone (found unlocked at start) is replayed into the database by the next worker to start.

Segments are locked with `flock` while their writer lives, so workers of one node share the
folder without replaying each other's live files. One line of a segment is one JSON array of
rows, written with one system call.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

log = logging.getLogger(__name__)

SUFFIX = ".spool"


@dataclass(slots=True)
class Segment:
    """One spool file, open and locked by this process."""

    path: Path
    fd: int


def _lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class UsageSpool:
    """The segment files of one worker process in a folder shared with the other workers."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._name = f"{os.getpid()}-{os.urandom(4).hex()}"
        self._sequence = 0
        self.current: Segment | None = None

    def _create(self) -> Segment:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._sequence += 1
        stem = f"{self._name}-{self._sequence:08d}"
        # Created and locked under a name replay ignores, then renamed: never seen unlocked.
        hidden = self.directory / f".{stem}.new"
        fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        path = self.directory / f"{stem}{SUFFIX}"
        os.rename(hidden, path)
        return Segment(path, fd)

    def append(self, rows: Sequence[Sequence[Any]]) -> None:
        """Write rows to the current segment (one system call); raises OSError."""
        if not rows:
            return
        if self.current is None:
            self.current = self._create()
        os.write(self.current.fd, orjson.dumps(rows) + b"\n")

    def rotate(self) -> Segment | None:
        """Close the current segment for new rows; the caller retires it once written."""
        segment, self.current = self.current, None
        return segment

    @staticmethod
    def retire(segment: Segment) -> None:
        """Its rows are in the database: delete the file, then let go of the lock."""
        try:
            segment.path.unlink(missing_ok=True)
        finally:
            os.close(segment.fd)

    @staticmethod
    def release(segment: Segment) -> None:
        """Keep the file for a later replay (its rows may not all be in the database)."""
        os.close(segment.fd)

    def close(self) -> None:
        """At a clean stop, after the last flush: nothing is left to replay."""
        segment = self.rotate()
        if segment is not None:
            self.retire(segment)

    def orphans(self) -> Iterator[Segment]:
        """Segments whose writer is gone, each locked by this process while the caller reads."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue  # replayed meanwhile by another worker
            if not _lock(fd) or not _same_file(path, fd):
                os.close(fd)
                continue
            yield Segment(path, fd)

    @staticmethod
    def read(segment: Segment) -> list[tuple[Any, ...]]:
        """The rows of a segment; a line cut short (the process killed mid-write) is skipped."""
        with os.fdopen(os.dup(segment.fd), "rb") as file:
            data = file.read()
        rows: list[tuple[Any, ...]] = []
        for line in data.splitlines():
            try:
                batch = orjson.loads(line)
            except orjson.JSONDecodeError:
                log.warning("skipping a damaged line of %s", segment.path.name)
                continue
            rows.extend(tuple(row) for row in batch if isinstance(row, list))
        return rows


def _same_file(path: Path, fd: int) -> bool:
    try:
        return path.stat().st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False
