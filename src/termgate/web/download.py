"""A case file served back: always as a download of its sniffed type, never rendered inline."""

from __future__ import annotations

from starlette.responses import Response

from termgate.db.due_process import CaseFile


def file_download(item: CaseFile) -> Response:
    return Response(
        item.data,
        media_type=item.content_type,
        headers={
            # The name was reduced to [A-Za-z0-9._-] when the file was stored.
            "Content-Disposition": f'attachment; filename="{item.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
