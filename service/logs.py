"""Logging for ``partnermatch serve``: access lines without personal data.

An access line keeps method, path, protocol and status. The client address
(personal data) becomes ``-`` and the query string (which may hold an owner's
name or a search text) is dropped. Keys travel in a header, which is never
logged.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG


class RedactAccessLog(logging.Filter):
    """Strip the client address and query string from uvicorn access records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            _client, method, path, version, status = record.args
            record.args = ("-", method, str(path).split("?", 1)[0], version, status)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the redacting access filter."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact"] = {"()": RedactAccessLog}
    config["handlers"]["access"]["filters"] = ["redact"]
    return config
