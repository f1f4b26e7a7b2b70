"""File formats of the document downloads: a minimal real PDF and well-formed XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

PAGE_LINES = 48


def _pdf_text(text: str) -> str:
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF 1.4 (Helvetica text) with a correct cross-reference table."""
    text = [f"BT /F1 16 Tf 56 790 Td ({_pdf_text(title)}) Tj ET"]
    for number, line in enumerate(lines[:PAGE_LINES]):
        text.append(f"BT /F1 10 Tf 56 {760 - 14 * number} Td ({_pdf_text(line)}) Tj ET")
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def element(tag: str, *children: Any, **attributes: str) -> ET.Element:
    """`element("Amt", "12.50")` or `element("Dbtr", element("Nm", "X"))`."""
    node = ET.Element(tag, attributes)
    for child in children:
        if isinstance(child, ET.Element):
            node.append(child)
        elif child is not None:
            node.text = str(child)
    return node


def xml(root: ET.Element) -> bytes:
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"
