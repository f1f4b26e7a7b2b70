"""Checks of request bodies, collecting every field error into `invalid-params` at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from termgate.reference_api.http import ProblemError
from termgate.reference_api.identifiers import bsn_is_valid
from termgate.reference_api.refusals import VALIDATION

# A check answers the cleaned value, or raises ValueError with the reason.
Check = Callable[[Any], Any]
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?[0-9][0-9 -]{5,19}")


@dataclass(frozen=True, slots=True)
class Field:
    check: Check
    required: bool = True


def text(low: int, high: int, *, nullable: bool = False) -> Check:
    def check(value: Any) -> Any:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not low <= len(value.strip()) <= high:
            raise ValueError(f"must be a text of {low} to {high} characters")
        return value.strip()

    return check


def one_of(*choices: str) -> Check:
    def check(value: Any) -> Any:
        if value not in choices:
            raise ValueError("must be one of " + ", ".join(choices))
        return value

    return check


def iso_date(first: date, last: date) -> Check:
    def check(value: Any) -> Any:
        try:
            parsed = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or len(value) != 10 or not first <= parsed <= last:
            raise ValueError(f"must be a date YYYY-MM-DD from {first} to {last}")
        return parsed.isoformat()

    return check


def matches(pattern: re.Pattern[str], what: str) -> Check:
    def check(value: Any) -> Any:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return check


def citizen_service_number(value: Any) -> Any:
    if not isinstance(value, str) or not bsn_is_valid(value):
        raise ValueError("must be nine digits passing the 11-proef")
    return value


def number(low: float, high: float) -> Check:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
            raise ValueError(f"must be a number above {low} and at most {high}")
        return value

    return check


EMAIL = matches(_EMAIL, "an e-mail address")
PHONE = matches(_PHONE, "a phone number of digits, spaces and dashes")


def json_object(body: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        reason = "must be a JSON object"
        raise ProblemError(
            VALIDATION, "The body is not a JSON object", invalid_params=[_err("body", reason)]
        )
    return value


def validate(
    body: bytes, fields: dict[str, Field], *, read_only: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The cleaned fields present in the body, or one validation problem naming every bad field."""
    value = json_object(body)
    cleaned: dict[str, Any] = {}
    errors = [
        _err(name, "is not a field of this resource")
        for name in value
        if name not in fields and name not in read_only
    ]
    for name, spec in fields.items():
        if name not in value:
            if spec.required:
                errors.append(_err(name, "is required"))
            continue
        try:
            cleaned[name] = spec.check(value[name])
        except ValueError as error:
            errors.append(_err(name, str(error)))
    if errors:
        raise ProblemError(VALIDATION, "The body has invalid fields", invalid_params=errors)
    return cleaned


def _err(name: str, reason: str) -> dict[str, str]:
    return {"name": name, "reason": reason}
