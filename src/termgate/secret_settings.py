"""The one rule for secret settings: which they are, how they are shown, where they come from.

Secret values never reach an error message, a log line or command output: `masked` shows a
setting as an operator may see it, `redact` removes known secret values from any text, and
`describe_origin` says where a setting came from without its value. `SecretFiles` reads the
`TERMGATE_<NAME>_FILE` variants (a container's or systemd's secret files).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

PREFIX = "TERMGATE_"
HIDDEN = "***"
# Settings whose whole value is secret.
SECRET_FIELDS = frozenset({"secret_key", "smtp_password", "metrics_token"})
# Settings that are URLs whose password (user info or query parameter) is secret.
URL_FIELDS = frozenset({"database_url", "redis_url"})
FILE_FIELDS = SECRET_FIELDS | URL_FIELDS

_SECRET_QUERY = re.compile(
    r"([?&;](?:[^=&;#]*(?:password|passwd|pwd|secret|token)[^=&;#]*)=)([^&;#]*)", re.I
)


class SecretFileError(ValueError):
    """A `TERMGATE_<NAME>_FILE` variable names a file that cannot be read, or clashes."""


def url_password(url: str) -> str | None:
    """The password in a URL's user info (`scheme://user:password@host`), if any."""
    _, found, rest = url.partition("://")
    at = rest.rfind("@")
    if not found or at < 0:
        return None
    _, colon, password = rest[:at].partition(":")
    return password if colon else None


def mask_url(url: str) -> str:
    """The URL with its password hidden: in the user info (everything up to the last `@`, so a
    password with an unencoded `@` or `/` is hidden whole) and in password-like query parameters."""
    scheme, found, rest = url.partition("://")
    if not found:
        return url
    at = rest.rfind("@")
    if at >= 0:
        user, colon, _ = rest[:at].partition(":")
        if colon:
            rest = f"{user}:{HIDDEN}{rest[at:]}"
    return _SECRET_QUERY.sub(rf"\g<1>{HIDDEN}", f"{scheme}://{rest}")


def masked(name: str, value: object) -> str:
    """A setting's value as it may be shown: secrets hidden, URLs without their password."""
    if value is None:
        return "not set"
    if name in SECRET_FIELDS or isinstance(value, SecretStr):
        return HIDDEN
    if name in URL_FIELDS:
        return repr(mask_url(str(value)))
    return repr(value)


def secret_values(values: Mapping[str, object]) -> list[str]:
    """The secret strings among settings values (plain or `SecretStr`), URL passwords included."""
    found: list[str] = []
    for name, value in values.items():
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(text, str) or not text:
            continue
        if name in SECRET_FIELDS:
            found.append(text)
        elif name in URL_FIELDS and (password := url_password(text)):
            found.append(password)
    return found


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of a secret value replaced by `***`, longest first."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return text


def _environment(name: str) -> str | None:
    """The `TERMGATE_<NAME>` variable's name as set (matched without regard to case), or None."""
    wanted = f"{PREFIX}{name}".upper()
    return next((key for key in os.environ if key.upper() == wanted), None)


def describe_origin(name: str, given: Iterable[str] = ()) -> str:
    """Where a setting came from, for an error message: never its value."""
    if name in given:
        return "given by the caller"
    if variable := _environment(name):
        return f"from the environment variable {variable}"
    if name in FILE_FIELDS and (variable := _environment(f"{name}_FILE")):
        return f"from the file named by {variable}"
    config_file = os.environ.get(f"{PREFIX}CONFIG")
    if config_file:
        try:
            in_file = name in tomllib.loads(Path(config_file).read_text())
        except (OSError, ValueError):
            in_file = False
        if in_file:
            return f"from the config file {config_file}"
    return "the default"


def read_secret_file(variable: str, path: str) -> str:
    """A secret file's content without one trailing newline; a clear error naming the variable."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SecretFileError(f"{variable}: {path!r} is not UTF-8 text") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SecretFileError(f"{variable}: cannot read {path!r}: {reason}") from None
    if content.endswith("\r\n"):
        return content[:-2]
    return content.removesuffix("\n")


class SecretFiles(PydanticBaseSettingsSource):
    """`TERMGATE_<NAME>_FILE=/run/secrets/x` sets a secret setting to that file's content."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # every value is read in __call__

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in sorted(FILE_FIELDS):
            variable = _environment(f"{name}_FILE")
            if variable is None:
                continue
            if direct := _environment(name):
                raise SecretFileError(f"{variable}: set this or {direct}, not both")
            values[name] = read_secret_file(variable, os.environ[variable])
        return values
