"""Issue 13: a call's caller ID proves a roster member only when the carrier does not say it failed
STIR/SHAKEN validation (or, where the district requires it, when the carrier fully attested it)."""

from __future__ import annotations

import pytest

from conftest import FRONT_DESK, LEGAL, STAFF_LINE
from hotline import security
from hotline.callerid import caller_id_trusted

CODE_PROMPT = "not on the staff list"


@pytest.mark.parametrize("verdict", ["TN-Validation-Failed-A", "TN-Validation-Failed-B", "TN-Validation-Failed-C"])
def test_a_roster_number_that_failed_validation_is_asked_for_the_code(hotline, verdict):
    call = hotline.phone.call(FRONT_DESK, STAFF_LINE, params={"StirVerstat": verdict})
    assert CODE_PROMPT in call.turn.said and call.turn.gather, "asked for the staff code like an unlisted number"
    incident = hotline.services.incidents.for_reporter("demo", FRONT_DESK)
    assert incident.verification == "pending" and incident.reporter_name == ""
    call = hotline.phone.press(call, "4821")
    assert hotline.services.incidents.for_reporter("demo", FRONT_DESK).verification == "code"
    assert call.turn.dial and call.turn.dial["numbers"][0][0] == LEGAL
    kinds = [e["kind"] for e in security.timeline(hotline.services, "demo")]
    assert "caller-id" in kinds and "code-accepted" in kinds


def test_a_failed_call_is_not_trusted_again_on_a_later_request(hotline):
    call = hotline.phone.call(FRONT_DESK, STAFF_LINE, params={"StirVerstat": "TN-Validation-Failed-C"})
    call.params = {}             # a later request without the verdict does not make the roster count
    hotline.phone.press(call, "1111")
    assert hotline.services.incidents.for_reporter("demo", FRONT_DESK).verification == "pending"


@pytest.mark.parametrize("params", [{}, {"StirVerstat": "TN-Validation-Passed-A"},
                                    {"StirVerstat": "TN-Validation-Passed-C"}, {"StirVerstat": "No-TN-Validation"}])
def test_no_verdict_or_a_passed_one_keeps_the_roster(hotline, params):
    call = hotline.phone.call(FRONT_DESK, STAFF_LINE, params=params)
    assert CODE_PROMPT not in call.turn.said
    assert hotline.services.incidents.for_reporter("demo", FRONT_DESK).verification == "roster"


@pytest.mark.parametrize("params, roster", [({}, False), ({"StirVerstat": "TN-Validation-Passed-B"}, False),
                                            ({"StirVerstat": "TN-Validation-Passed-A"}, True)])
def test_a_district_can_require_full_attestation(make_hotline, params, roster):
    hotline = make_hotline({"district": {"require_attested_caller_id": True}})
    call = hotline.phone.call(FRONT_DESK, STAFF_LINE, params=params)
    assert (CODE_PROMPT not in call.turn.said) == roster
    expected = "roster" if roster else "pending"
    assert hotline.services.incidents.for_reporter("demo", FRONT_DESK).verification == expected


def test_texts_keep_the_roster_even_when_the_district_requires_attestation(make_hotline):
    hotline = make_hotline({"district": {"require_attested_caller_id": True}})
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert hotline.services.incidents.for_reporter("demo", FRONT_DESK).verification == "roster"


def test_the_rule():
    assert not caller_id_trusted("TN-Validation-Failed", False)
    assert caller_id_trusted(None, False) and not caller_id_trusted(None, True)
    assert caller_id_trusted("TN-Validation-Passed-A", True)
