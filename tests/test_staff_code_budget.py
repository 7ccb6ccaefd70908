"""Issue 13: the district's budget of wrong staff codes, across all numbers, by text and by phone."""

from __future__ import annotations

import pytest

from conftest import LEGAL, STAFF_LINE
from hotline import security
from hotline.check import code_warnings
from hotline.services import check_configuration
from test_admin import PASSWORD_HASH, page, sign_in

ATTACKERS = [f"+1720555{n:04d}" for n in range(40)]


def wrong_code_from(hotline, number: str) -> list[str]:
    first = hotline.text(number, STAFF_LINE, "ICE")
    assert any("ICE AT SCHOOL" in text for text in first), "the protocol is given to every number"
    return hotline.text(number, STAFF_LINE, "0000")


def test_forty_numbers_one_wrong_code_each_trip_the_budget_and_text_legal_once(make_hotline):
    hotline = make_hotline(admin_password_hash=PASSWORD_HASH)
    replies = [wrong_code_from(hotline, number) for number in ATTACKERS]
    hotline.run_jobs()

    # The first 20 are checked (and wrong); from then on the code check is paused for everyone.
    assert all("That code is not right" in " ".join(reply) for reply in replies[:19])
    assert all("codes are paused" in " ".join(reply) for reply in replies[20:])
    alerts = [m for m in hotline.fake.messages_to(LEGAL) if "staff code attack" in m["params"]["Body"]]
    assert len(alerts) == 1, [m["params"]["Body"] for m in hotline.fake.messages_to(LEGAL)]
    assert "20 failures in 15 minutes" in alerts[0]["params"]["Body"]
    assert alerts[0]["params"]["From"] == STAFF_LINE

    # The right code is refused while paused: no incident gets verified by it.
    fresh = "+17205559999"
    hotline.text(fresh, STAFF_LINE, "ICE")
    paused = hotline.text(fresh, STAFF_LINE, "482193")
    assert "codes are paused" in " ".join(paused)
    assert hotline.services.incidents.for_reporter("demo", fresh) is None, "no incident without a checked code"

    # Every attempt is on the security timeline the dashboard shows, with no full number.
    events = security.timeline(hotline.services, "demo", 500)
    kinds = [e["kind"] for e in events]
    assert kinds.count("code-wrong") == 20 and kinds.count("code-paused") == 1 and "alert-sent" in kinds
    assert kinds.count("code-refused") == 21
    client = hotline.app.test_client()
    assert sign_in(client).status_code == 302
    text = page(client, "/admin/security")
    assert "wrong staff code from …0000 by text" in text and "staff code paused" in text
    assert "+17205550000" not in text
    assert "The staff code is paused" in text


def test_the_budget_is_a_district_setting_and_counts_calls_too(make_hotline):
    hotline = make_hotline({"district": {"staff_code_limit": {"failures": 3, "window": "10m", "cooldown": "5m"}}})
    for number in ATTACKERS[:2]:
        wrong_code_from(hotline, number)
    call = hotline.phone.press(hotline.call(ATTACKERS[2], STAFF_LINE), "1")     # officers at the school
    hotline.phone.press(call, "9999")          # the third wrong code, by phone: the budget is spent
    hotline.run_jobs()
    alerts = [m for m in hotline.fake.messages_to(LEGAL) if "staff code attack" in m["params"]["Body"]]
    assert len(alerts) == 1 and "3 failures in 10 minutes" in alerts[0]["params"]["Body"]
    # A right code by phone while paused is not checked; the caller is still put through to legal.
    call = hotline.phone.press(hotline.call(ATTACKERS[3], STAFF_LINE), "1")
    call = hotline.phone.press(call, "482193")
    call = hotline.phone.press(call, "1") if not call.turn.dial else call    # put through to legal now
    assert call.turn.dial and call.turn.dial["numbers"][0][0] == LEGAL, "still connected to the legal office"
    assert not any(i.verified for i in hotline.services.incidents.list("demo")), "nobody verified while paused"


def test_a_right_code_is_logged_and_does_not_count(make_hotline):
    hotline = make_hotline()
    hotline.text(ATTACKERS[0], STAFF_LINE, "ICE")
    assert "Code accepted" in " ".join(hotline.text(ATTACKERS[0], STAFF_LINE, "482193"))
    kinds = [e["kind"] for e in security.timeline(hotline.services, "demo")]
    assert kinds == ["code-accepted", "unverified-report"], "newest first: the protocol view, then the code"


@pytest.mark.parametrize("code, warned", [("4821", True), ("48213", True), ("482139", False)])
def test_check_warns_for_codes_under_six_digits(tmp_path, code, warned):
    from conftest import write_district
    from hotline.settings import Settings

    path = write_district(tmp_path, {"district": {"staff_code": code}})
    directory, _ = check_configuration(Settings(district_path=path))
    warnings = code_warnings(directory)
    assert bool(warnings) == warned
    if warned:
        assert warnings[0].warning and "6 to 8 random digits" in warnings[0].fix
