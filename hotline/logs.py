"""Logging that keeps the privacy promise: no message bodies (the code never logs them) and no
full phone numbers (a filter masks any that slip into a record to their last four digits)."""

from __future__ import annotations

import logging
import re

# Phone numbers as they may appear: E.164 (+13035550120), North American with separators
# ((303) 555-0120, 303-555-0120, 303.555.0120) or a bare run of 10-15 digits. Dates, times and
# Twilio SIDs (letters and digits) do not match.
_NUMBER = re.compile(
    r"\+\d{7,15}"
    r"|(?<![\w+])\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\w)"
    r"|(?<![\w+-])\d{10,15}(?![\w-])"
)
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _mask(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"…{digits[-4:]}"


def mask_numbers(text: str) -> str:
    return _NUMBER.sub(_mask, text)


_base_factory = logging.getLogRecordFactory()


def _masking_factory(*args, **kwargs) -> logging.LogRecord:
    """Every log record, from our code or a library's, has phone numbers masked as it is made, so
    every handler (console, files, a test's capture) sees only the last four digits."""
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 — a malformed record is logging's problem, not ours
        return record
    masked = mask_numbers(message)
    if masked != message:
        record.msg, record.args = masked, None
    return record


def configure_logging(level: str = "INFO") -> None:
    if logging.getLogRecordFactory() is not _masking_factory:
        logging.setLogRecordFactory(_masking_factory)
    root = logging.getLogger()
    if not any(getattr(h, "_hotline", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._hotline = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # The twilio client logs every request's URL and headers at INFO; ours say what matters.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
