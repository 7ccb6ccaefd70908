"""Whether a call's caller ID may stand in for the staff roster.

Caller ID is free to spoof. Twilio passes on the carrier's STIR/SHAKEN verdict as ``StirVerstat``:
``TN-Validation-Passed-A`` (the carrier vouches for the caller and the number), ``-B`` and ``-C``
(weaker), ``TN-Validation-Failed-*`` (the signature did not verify), or nothing at all (many school
landlines and smaller carriers do not sign). A failed verdict never proves a roster member: the
caller is asked for the staff code like an unlisted number. No verdict keeps the roster unless the
district sets ``require_attested_caller_id: true``, which then trusts only full (A) attestation.
Texts carry no such verdict and keep the roster (docs/operations.md says why).
"""

from __future__ import annotations

FAILED_PREFIX = "TN-Validation-Failed"
FULL_ATTESTATION = "TN-Validation-Passed-A"


def caller_id_trusted(stir_verstat: str | None, require_attested: bool) -> bool:
    verdict = (stir_verstat or "").strip()
    if verdict.startswith(FAILED_PREFIX):
        return False
    if require_attested:
        return verdict == FULL_ATTESTATION
    return True
