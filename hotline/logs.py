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


class MaskPhoneNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _NUMBER.sub(_mask, message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_hotline", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(MaskPhoneNumbers())
        handler._hotline = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # The twilio client logs every request's URL and headers at INFO; ours say what matters.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    for handler in root.handlers:
        if not any(isinstance(f, MaskPhoneNumbers) for f in handler.filters):
            handler.addFilter(MaskPhoneNumbers())
