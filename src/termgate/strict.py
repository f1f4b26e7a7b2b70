"""Strict parsing of what people and programs send: whole numbers, time zones, text.

One place, because the loose versions fail in surprising ways: `"²".isdigit()` is true but
`int("²")` raises, `int(" +1_0 ")` is 10, a 200,000-character time zone name is an `OSError`
from the file system, and `str.strip()` keeps NUL and terminal escapes. Every function here
answers `None` (or the offending character) instead of raising, so callers refuse with their own
message naming the field.
"""

from __future__ import annotations

import re
import unicodedata
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_DIGITS = 18  # fits a signed 64-bit column
ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,3}")
MAX_ZONE_NAME = 64
MULTILINE_ALLOWED = frozenset("\n\r\t")
# Line and paragraph separators are not category C but break lines in terminals and logs.
LINE_BREAKERS = frozenset("\u2028\u2029\u0085")


def whole_number(text: str) -> int | None:
    """A non-negative whole number written in ASCII digits only (surrounding blanks allowed)."""
    digits = text.strip()
    if not digits or len(digits) > MAX_DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits)


def time_zone(name: str) -> ZoneInfo | None:
    """The IANA time zone of that name, or None for anything that is not one."""
    if len(name) > MAX_ZONE_NAME or not ZONE_NAME.fullmatch(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def control_character(text: str, multiline: bool = False) -> str | None:
    """The first control or format character in `text`, written as U+XXXX; None when clean.

    Ordinary newlines, carriage returns and tabs are allowed in multi-line text only."""
    for char in text:
        if multiline and char in MULTILINE_ALLOWED:
            continue
        if char in LINE_BREAKERS or unicodedata.category(char) in ("Cc", "Cs"):
            return f"U+{ord(char):04X}"
    return None


def control_character_problem(label: str, text: str, multiline: bool = False) -> str | None:
    """A sentence naming the field and the character, or None when the text is clean."""
    found = control_character(text, multiline)
    if found is None:
        return None
    allowed = " (line breaks and tabs are fine here)" if multiline else ""
    return f"{label} must not contain control characters such as {found}{allowed}"
