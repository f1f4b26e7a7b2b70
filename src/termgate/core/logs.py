"""One logging configuration for `serve`, its workers and the command line.

Every line goes through structlog's renderer, whether it was written with structlog or with the
standard library (termgate's own modules, granian, SQLAlchemy, Authlib): an ISO-8601 UTC
timestamp, the level, the logger, the event, and the request id of the request being served
(bound by the control plane's middleware; the gateway passes its id with the few lines it writes
while serving, so its request path binds nothing).

Formats (`TERMGATE_LOG_FORMAT`): `json` (one object a line), `logfmt` (`key=value` pairs), or
`console` (aligned and coloured for people). `auto`, the default, is `console` when stderr is a
terminal and `logfmt` otherwise, so a service manager or container runtime records lines a log
shipper can parse.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, MutableMapping
from typing import Any, Literal, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

Format = Literal["auto", "json", "logfmt", "console"]
FORMATS: tuple[str, ...] = ("auto", "json", "logfmt", "console")
FIRST_KEYS = ["timestamp", "level", "logger", "event"]
# Loggers of libraries that talk too much at INFO: their warnings and errors are enough.
QUIET = ("sqlalchemy.engine", "aiosqlite", "asyncio", "multipart", "httpx", "httpcore")
GRANIAN_LOGGERS = ("_granian", "granian.access")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
Writer = Callable[[str, str, dict[str, object]], None]
_direct: tuple[logging.Handler, Writer] | None = None  # see `direct_writer`


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler on whatever `sys.stderr` is when a line is written (a test runner swaps it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def effective_format(wanted: str, stream: TextIO | None = None) -> str:
    """The format `auto` stands for on this stream: console on a terminal, logfmt otherwise."""
    if wanted != "auto":
        return wanted
    target = stream or sys.stderr
    try:
        return "console" if target.isatty() else "logfmt"
    except (AttributeError, ValueError):
        return "logfmt"


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def escape_controls(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Control characters in values (a request path's CR or ESC) shown as `\\xNN`, so a value
    cannot start a forged line or recolour a terminal. JSON escapes them itself."""
    for key, value in event.items():
        if isinstance(value, str) and key != "exception" and _CONTROL.search(value):
            event[key] = _CONTROL.sub(_escape, value)
    return event


def _json(event: MutableMapping[str, Any], **_: Any) -> str:
    first = {key: event.pop(key) for key in FIRST_KEYS if key in event}
    return orjson.dumps({**first, **event}, default=str).decode()


# Tracebacks never show local variables: they may hold a password or a key.
_DICT_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


def _renderer(name: str, colours: bool) -> list[Processor]:
    if name == "json":
        return [_DICT_TRACEBACKS, structlog.processors.JSONRenderer(_json)]
    if name == "logfmt":
        return [
            structlog.processors.format_exc_info,
            escape_controls,
            structlog.processors.LogfmtRenderer(key_order=FIRST_KEYS, bool_as_flag=False),
        ]
    return [
        escape_controls,
        structlog.dev.ConsoleRenderer(
            colors=colours, exception_formatter=structlog.dev.plain_traceback
        ),
    ]


def _shared() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure(level: str = "info", wanted: str = "auto", stream: TextIO | None = None) -> str:
    """Route every logger of the process to one handler on `stream` (stderr); returns the format
    used. Calling it again replaces the previous configuration (a worker after granian's)."""
    target = stream or sys.stderr
    name = effective_format(wanted, target)
    colours = name == "console" and effective_format("auto", target) == "console"
    handler: logging.Handler = logging.StreamHandler(stream) if stream else _Stderr()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_shared(), structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *_renderer(name, colours),
            ],
        )
    )
    global _direct
    _direct = (
        handler,
        _writer(
            handler,
            [structlog.processors.TimeStamper(fmt="iso", utc=True), *_renderer(name, colours)],
        ),
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for quiet in QUIET:
        logging.getLogger(quiet).setLevel(max(logging.WARNING, root.level))
    for granian in GRANIAN_LOGGERS:  # granian's own handlers print plain text on stdout
        logger = logging.getLogger(granian)
        logger.handlers.clear()
        logger.propagate = True
    logging.captureWarnings(True)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return name


def _writer(handler: logging.Handler, chain: list[Processor]) -> Writer:
    def write(logger: str, event: str, fields: dict[str, object]) -> None:
        rendered: Any = {"level": "info", "logger": logger, "event": event, **fields}
        for processor in chain:
            rendered = processor(None, "info", rendered)
        handler.acquire()
        try:
            handler.stream.write(f"{rendered}\n")  # type: ignore[attr-defined]
            handler.flush()
        finally:
            handler.release()

    return write


def direct_writer() -> Writer | None:
    """The configured handler's renderer without the standard library's LogRecord, for the
    access log's line per request (a fifth of the cost). None until `configure` ran, or when
    another handler listens too (a test's log capture): then lines take the standard path."""
    if _direct is None or logging.root.handlers != [_direct[0]]:
        return None
    return _direct[1]


def granian_config() -> dict[str, Any]:
    """Granian's `log_dictconfig`: its loggers without handlers of their own, so their lines
    reach the root handler `configure` installs (in the main process and in every worker)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {},
        "handlers": {},
        "loggers": {name: {"handlers": [], "propagate": True} for name in GRANIAN_LOGGERS},
    }


def get(name: str) -> Any:
    """A structlog logger writing through the same handler (keyword fields, not %-formatting)."""
    return structlog.stdlib.get_logger(name)
