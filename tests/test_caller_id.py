"""Issue 13: a call's caller ID proves a roster member only when the carrier does not say it failed
STIR/SHAKEN validation (or, where the district requires it, when the carrier fully attested it)."""

from __future__ import annotations

import pytest

from conftest import FRONT_DESK, LEGAL, STAFF_LINE
from hotline import security
from hotline.callerid import caller_id_trusted

CODE_PROMPT = "not on the staff list"


def staff_call(hotline, params):
    """A call to the staff line that picks the ICE protocol (the menu's 1)."""
    call = hotline.phone.call(FRONT_DESK, STAFF_LINE, params=params)
    return hotline.phone.press(call, "1")


def reported(hotline):
    return hotline.services.incidents.for_reporter("demo", FRONT_DESK)


@pytest.mark.parametrize("verdict", ["TN-Validation-Failed-A", "TN-Validation-Failed-B", "TN-Validation-Failed-C"])
def test_a_roster_number_that_failed_validation_is_asked_for_the_code(hotline, verdict):
    call = staff_call(hotline, {"StirVerstat": verdict})
    assert CODE_PROMPT in call.turn.said and call.turn.gather, "asked for the staff code like an unlisted number"
    assert reported(hotline) is None, "no incident before the code"
    call = hotline.phone.press(call, "482193")
    call = hotline.phone.press(call, "1")                                   # Lincoln Elementary
    incident = reported(hotline)
    assert incident.verification == "code" and incident.reporter_name == "", "the roster name is not trusted"
    call = hotline.phone.press(call, "1")                                   # put through now
    assert call.turn.dial and call.turn.dial["numbers"][0][0] == LEGAL
    kinds = [e["kind"] for e in security.timeline(hotline.services, "demo")]
    assert "caller-id" in kinds and "code-accepted" in kinds


def test_a_failed_call_is_not_trusted_again_on_a_later_request(hotline):
    call = staff_call(hotline, {"StirVerstat": "TN-Validation-Failed-C"})
    call.params = {}             # a later request without the verdict does not make the roster count
    call = hotline.phone.press(call, "1111")
    assert CODE_PROMPT not in call.turn.said and reported(hotline) is None


@pytest.mark.parametrize("params", [{}, {"StirVerstat": "TN-Validation-Passed-A"},
                                    {"StirVerstat": "TN-Validation-Passed-C"}, {"StirVerstat": "No-TN-Validation"}])
def test_no_verdict_or_a_passed_one_keeps_the_roster(hotline, params):
    call = staff_call(hotline, params)
    assert CODE_PROMPT not in call.turn.said
    assert reported(hotline).verification == "roster"


@pytest.mark.parametrize("params, roster", [({}, False), ({"StirVerstat": "TN-Validation-Passed-B"}, False),
                                            ({"StirVerstat": "TN-Validation-Passed-A"}, True)])
def test_a_district_can_require_full_attestation(make_hotline, params, roster):
    hotline = make_hotline({"district": {"require_attested_caller_id": True}})
    call = staff_call(hotline, params)
    assert (CODE_PROMPT not in call.turn.said) == roster
    assert (reported(hotline).verification == "roster") if roster else reported(hotline) is None


def test_texts_keep_the_roster_even_when_the_district_requires_attestation(make_hotline):
    hotline = make_hotline({"district": {"require_attested_caller_id": True}})
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert hotline.services.incidents.for_reporter("demo", FRONT_DESK).verification == "roster"


def test_the_rule():
    assert not caller_id_trusted("TN-Validation-Failed", False)
    assert caller_id_trusted(None, False) and not caller_id_trusted(None, True)
    assert caller_id_trusted("TN-Validation-Passed-A", True)
