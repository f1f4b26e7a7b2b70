"""An SMTP relay for mail tests that can refuse: a real aiosmtpd server (see `Controller`)."""

from __future__ import annotations

from aiosmtpd.smtp import SMTP, Envelope, Session


class RefuseFirst:
    """A relay that answers 451 (try again later) to the first `refusals` messages."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.subjects: list[str] = []

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.refusals:
            self.refusals -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        subject = next(line for line in content.splitlines() if line.startswith(b"Subject: "))
        self.subjects.append(subject.removeprefix(b"Subject: ").decode())
        return "250 OK"
