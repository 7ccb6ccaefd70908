"""The staff line: the ICE protocol by text and by call, incidents, escalation until a human
acknowledges, records requests, the staff code, drills. Real Redis, RQ workers and the local
Twilio-compatible server; requests signed as Twilio signs them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import (ALWAYS_CLOSED, BACKUP, DESIGNEE, FAST_TIERS, FRONT_DESK, LEGAL, PRINCIPAL,
                      ROOSEVELT_DESK, SAFETY, STAFF_LINE, STRANGER, bodies, incident, timeline_text)
from hotline.cli import main
from hotline.segments import count_segments
from hotline.sessions import sms_key
from hotline.timeouts import run_sms_timeout

FAST = FAST_TIERS


def test_ice_from_the_front_desk_gives_first_steps_and_alerts_legal_and_safety(hotline):
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "ice")[0]
    assert reply.startswith("ICE AT SCHOOL:"), "the protocol comes first"
    assert "Stay calm and polite" in reply
    assert "Say requests go to Office of Legal Counsel (303) 555-0117" in reply, "where to direct the officers"
    assert "Ask them to wait outside, or in the office if cooperative" in reply
    assert "Call legal now: (303) 555-0110" in reply and "Department of Safety (303) 555-0111" in reply
    assert "Get your school leader" in reply
    assert "Comply, do not interfere, text EMERGENCY" in reply
    assert "Incident 101: the hotline is alerting them too" in reply
    assert "officer's name and badge number" in reply, "the first question comes in the same reply"
    assert count_segments(reply).segments <= 3, "the whole first reply fits 3 SMS segments"
    hotline.run_jobs()
    for number in (LEGAL, SAFETY):
        [body] = bodies(hotline.fake, number)
        assert body.startswith("ICE AT SCHOOL - incident 101: Lincoln Elementary.")
        assert "Maria Lopez, front desk, (303) 555-0120" in body and "Reply ACK 101" in body
    [leader] = bodies(hotline.fake, PRINCIPAL)
    assert "incident 101" in leader and "Lincoln Elementary" in leader and "Reply LEAD 101" in leader
    assert all(m["from"] == STAFF_LINE for m in hotline.fake.messages), "replies must reach the hotline"
    record = incident(hotline)
    assert (record.type, record.school, record.verification, record.status) == ("ice", "lincoln", "roster", "open")


def test_the_school_leader_is_not_told_to_fetch_the_school_leader(hotline):
    reply = hotline.text(PRINCIPAL, STAFF_LINE, "ICE")[0]
    assert "Call legal now" in reply and "Get your school leader" not in reply


def test_after_hours_the_first_reply_puts_safety_first(make_hotline):
    hotline = make_hotline({"office_hours": {"legal": ALWAYS_CLOSED}})
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "ICE")[0]
    assert "Legal is closed: call Department of Safety now, (303) 555-0111. Then legal: (303) 555-0110." in reply
    assert reply.index("(303) 555-0111") < reply.index("(303) 555-0110")
    assert count_segments(reply).segments <= 3


def test_the_protocol_walks_step_by_step_and_every_answer_lands_on_the_incident(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert "waiting outside" in hotline.text(FRONT_DESK, STAFF_LINE, "Agent R. Smith, badge 4471")[0]
    assert "supervisor's phone" in hotline.text(FRONT_DESK, STAFF_LINE, "1")[0]
    assert "phone number" in hotline.text(FRONT_DESK, STAFF_LINE, "call him")[0], "a bad number is asked again"
    assert "purpose" in hotline.text(FRONT_DESK, STAFF_LINE, "(720) 555-0188")[0]
    warrant = hotline.text(FRONT_DESK, STAFF_LINE, "Looking for a student, Juan Perez")[0]
    assert "warrant" in warrant and "1 - Yes" in warrant
    assert "Photograph every page" in hotline.text(FRONT_DESK, STAFF_LINE, "1")[0]
    exigent = hotline.text(FRONT_DESK, STAFF_LINE, "", media=("https://api.twilio.com/media/ME1",
                                                               "https://api.twilio.com/media/ME2"))[0]
    assert "say it is an emergency" in exigent and "exigent" not in exigent, "no legal jargon"
    holding = hotline.text(FRONT_DESK, STAFF_LINE, "2")[0]
    assert "Text STATUS" in holding and "LEFT when the officers have left" in holding
    assert "will call you" not in holding.replace("when they call", ""), "no promise the office will call"
    details = incident(hotline).details
    assert details == {
        "agent_name_badge": "Agent R. Smith, badge 4471", "officers_waiting": "waiting",
        "supervisor_phone": "+17205550188", "purpose": "Looking for a student, Juan Perez", "warrant": "yes",
        "document_photos": ["https://api.twilio.com/media/ME1", "https://api.twilio.com/media/ME2"], "exigent": "no",
    }
    hotline.run_jobs()
    escalations = bodies(hotline.fake, LEGAL) + bodies(hotline.fake, SAFETY)
    assert escalations and not any("Juan" in b or "Perez" in b for b in escalations), "no student names"


def test_officers_who_will_not_wait_bring_in_safety(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.text(FRONT_DESK, STAFF_LINE, "Agent Smith")
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "2")[0]
    assert "If they will not cooperate, call Department of Safety now: (303) 555-0111" in reply


def test_the_emergency_answer_makes_the_incident_urgent(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    for answer in ("Agent Smith", "1", "0", "a student", "2"):
        hotline.text(FRONT_DESK, STAFF_LINE, answer)
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "1")[0]       # they say it is an emergency
    assert "EMERGENCY EXCEPTION: comply with the officers' order and do not interfere" in reply
    assert "(303) 555-0110" in reply and "(303) 555-0111" in reply
    assert "We are telling Office of Legal Counsel, Department of Safety at once" in reply
    assert incident(hotline).urgent
    hotline.run_jobs()
    assert any(b.startswith("URGENT - incident 101") for b in bodies(hotline.fake, LEGAL))
    assert any(b.startswith("URGENT - incident 101") for b in bodies(hotline.fake, SAFETY))


def test_no_acknowledgement_calls_and_widens_then_ack_stops_it(make_hotline):
    hotline = make_hotline(FAST)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    fake = hotline.fake
    assert hotline.run_jobs(until=lambda: fake.calls_to(LEGAL) and fake.messages_to(BACKUP), timeout=15)
    assert fake.calls_to(SAFETY), "the second tier calls legal and safety and texts backup counsel"
    call = fake.calls_to(LEGAL)[0]
    assert call["params"]["Url"].startswith(hotline.settings.public_url + "/voice/escalation?")

    ack = hotline.text(LEGAL, STAFF_LINE, "ACK 101")[0]
    assert "You have incident 101" in ack and "(303) 555-0120" in ack
    hotline.run_jobs()
    assert any("Office of Legal Counsel has incident 101" in b for b in bodies(fake, FRONT_DESK))
    assert any("taken by Office of Legal Counsel" in b for b in bodies(fake, SAFETY))
    assert any("taken by Office of Legal Counsel" in b for b in bodies(fake, BACKUP))
    # Past every wait: the designee is never reached, nothing more is sent.
    sent_before = len(fake.messages) + len(fake.calls)
    hotline.run_jobs(until=lambda: False, timeout=2.5)
    assert not fake.messages_to(DESIGNEE) and not fake.calls_to(DESIGNEE)
    assert len(fake.messages) + len(fake.calls) == sent_before
    assert incident(hotline).status == "taken"


def test_nobody_acknowledging_is_told_to_the_reporter(make_hotline):
    hotline = make_hotline(FAST)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert hotline.run_jobs(until=lambda: any("Nobody has taken incident 101" in b for b in bodies(hotline.fake, FRONT_DESK)),
                            timeout=20)
    assert hotline.fake.calls_to(DESIGNEE) and hotline.fake.messages_to(DESIGNEE)
    # Once every tier has run, nothing says "we keep alerting" any more.
    for body in ("ICE", "LEFT"):
        reply = "\n".join(hotline.text(FRONT_DESK, STAFF_LINE, body))
        assert "Nobody has taken incident 101 yet. Call the legal office now" in reply and "keep alerting" not in reply


def test_ack_alone_works_when_one_incident_awaits_the_contact(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert "You have incident 101" in hotline.text(LEGAL, STAFF_LINE, "ack")[0]
    assert incident(hotline).acknowledged_by == "legal_office"
    later = hotline.text(BACKUP, STAFF_LINE, "ACK 101")[0]
    assert "not alerted to incident 101" in later, "backup counsel was never alerted"
    assert incident(hotline).acknowledged_by == "legal_office"


def test_ack_with_several_open_asks_which(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.text(ROOSEVELT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    reply = hotline.text(LEGAL, STAFF_LINE, "ACK")[0]
    assert "several open incidents: 101, 102" in reply
    assert incident(hotline).status == "open" and incident(hotline, "102").status == "open"


def test_unknown_incident_numbers_and_strangers_change_nothing(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert "There is no open incident 999" in hotline.text(LEGAL, STAFF_LINE, "ACK 999")[0]
    assert incident(hotline).status == "open"
    reply = hotline.text(STRANGER, STAFF_LINE, "ACK 101")[0]
    assert "not a hotline contact, so nothing was changed" in reply
    assert incident(hotline).status == "open"


def test_a_records_request(hotline):
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "RECORDS")[0]
    assert "Do not give out any student information" in reply and "Incident 101" in reply
    assert "Call the legal office yourself now: (303) 555-0110. They will handle the response." in reply
    hotline.text(FRONT_DESK, STAFF_LINE, "Officer Dana Kim, ID 88123")
    hotline.text(FRONT_DESK, STAFF_LINE, "1")                       # ICE or immigration
    hotline.text(FRONT_DESK, STAFF_LINE, "Enrollment dates and home address")
    hotline.text(FRONT_DESK, STAFF_LINE, "2")                       # subpoena
    done = hotline.text(FRONT_DESK, STAFF_LINE, "0")[0]             # no photo
    assert "The legal office handles the response to this request (incident 101)" in done
    record = incident(hotline)
    assert record.type == "records"
    assert record.details == {"requester": "Officer Dana Kim, ID 88123", "agency": "immigration",
                              "information_requested": "Enrollment dates and home address", "document": "subpoena",
                              "document_photos": None}
    hotline.run_jobs()
    assert bodies(hotline.fake, LEGAL)[0].startswith("STUDENT RECORDS REQUEST - incident 101")


def test_an_unknown_number_gets_the_protocol_but_needs_the_staff_code(hotline):
    reply = hotline.text(STRANGER, STAFF_LINE, "ICE")[0]
    assert "Stay calm and polite" in reply
    assert "not on the staff list, so nobody has been alerted yet" in reply and "(303) 555-0110" in reply
    hotline.run_jobs()
    assert hotline.fake.messages == [], "nobody is notified before the code"
    assert "That code is not right" in hotline.text(STRANGER, STAFF_LINE, "1234")[0]
    school = hotline.text(STRANGER, STAFF_LINE, "482193")[0]
    assert "Which school are you at?" in school and "1 - Lincoln Elementary" in school
    hotline.run_jobs()
    assert hotline.fake.messages == [], "the school comes before the alert"
    verified = hotline.text(STRANGER, STAFF_LINE, "2")[0]
    assert "Code accepted. Incident 101" in verified
    hotline.run_jobs()
    [body] = bodies(hotline.fake, LEGAL)
    assert "an unlisted number (staff code given)" in body and "(303) 555-0199" in body
    assert "Roosevelt High" in body and "school not known" not in body
    assert incident(hotline).verification == "code"


def test_staff_code_attempts_are_rate_limited(hotline):
    hotline.text(STRANGER, STAFF_LINE, "ICE")
    for attempt in range(5):
        hotline.text(STRANGER, STAFF_LINE, f"000{attempt}")
        if attempt % 3 == 2:
            hotline.text(STRANGER, STAFF_LINE, "ICE")       # start again after the flow gave up
    locked = hotline.text(STRANGER, STAFF_LINE, "482193")[0]
    assert "Too many wrong codes" in locked
    hotline.run_jobs()
    assert hotline.fake.messages == []


def test_an_opted_out_contact_is_called_instead(hotline):
    hotline.fake.fail_next(status=400, code=21610, to=LEGAL)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert hotline.run_jobs(until=lambda: hotline.fake.calls_to(LEGAL))
    assert "failed: recipient has opted out" in timeline_text(hotline)
    assert "calling Office of Legal Counsel instead" in timeline_text(hotline)
    assert len(hotline.fake.messages_to(SAFETY)) == 1


def test_a_contact_who_texted_stop_is_not_texted_at_all(hotline):
    hotline.text(LEGAL, STAFF_LINE, "STOP")
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert hotline.run_jobs(until=lambda: hotline.fake.calls_to(LEGAL))
    assert not hotline.fake.messages_to(LEGAL), "STOP stops texts, not calls"
    assert "Office of Legal Counsel (sms) failed: recipient has opted out (replied STOP)" in timeline_text(hotline)


def test_an_undelivered_text_falls_back_to_a_call(make_live_hotline):
    live = make_live_hotline()
    live.fake.set_delivery(SAFETY, "undelivered", 30003)
    live.text(FRONT_DESK, STAFF_LINE, "ICE")
    live.fake.wait_for_calls(SAFETY, timeout=20)
    text = timeline_text(live)
    assert "Department of Safety (sms): undelivered (error 30003)" in text
    assert "calling Department of Safety instead" in text


def test_pressing_1_on_the_escalation_call_acknowledges(make_live_hotline):
    live = make_live_hotline(FAST)
    live.text(FRONT_DESK, STAFF_LINE, "ICE")
    [call] = live.fake.wait_for_calls(LEGAL, timeout=20)
    answered = live.fake.answer_call(call["sid"], digits="1")
    assert "You have incident 101" in answered
    assert live.fake.wait_for(lambda: any("has incident 101" in b for b in bodies(live.fake, FRONT_DESK)), timeout=20)
    assert incident(live).acknowledged_by == "legal_office"
    assert "taken by Office of Legal Counsel (phone call)" in timeline_text(live)


def test_status_done_and_left(hotline):
    assert "no open incident" in hotline.text(FRONT_DESK, STAFF_LINE, "STATUS")[0]
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    status = hotline.text(FRONT_DESK, STAFF_LINE, "status")[0]
    assert "Incident 101 (open)" in status and "Department of Safety" in status and "Has it: nobody yet" in status
    hotline.text(LEGAL, STAFF_LINE, "ACK 101")
    assert "Has it: Office of Legal Counsel" in hotline.text(FRONT_DESK, STAFF_LINE, "STATUS")[0]
    asked = hotline.text(FRONT_DESK, STAFF_LINE, "DONE")[0]
    assert "Have the officers left?" in asked and "1 - Yes, they have left" in asked
    assert incident(hotline).left_at is None, "DONE alone only asks"
    left = hotline.text(FRONT_DESK, STAFF_LINE, "1")[0]
    assert "Office of Legal Counsel has incident 101 and is being told the officers left" in left
    hotline.run_jobs()
    assert any("the reporter says the officers have left" in b for b in bodies(hotline.fake, LEGAL))
    assert incident(hotline).status == "taken", "only the legal office closes it"
    closed = hotline.text(LEGAL, STAFF_LINE, "CLOSE 101")[0]
    assert "Incident 101 is closed" in closed
    hotline.run_jobs()
    assert incident(hotline).status == "closed"
    assert any("was closed by Office of Legal Counsel" in b for b in bodies(hotline.fake, FRONT_DESK))


def test_a_second_ice_reuses_the_open_incident(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    again = hotline.text(FRONT_DESK, STAFF_LINE, "ICE!")[0]
    assert "Incident 101 is open. Nobody has been reached yet" in again
    hotline.run_jobs()
    assert len(bodies(hotline.fake, LEGAL)) == 1


def test_drills_are_marked_notify_only_drill_contacts_and_stay_out_of_counts(hotline):
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "DRILL")[0]
    assert reply.startswith("DRILL - practice only.") and "Practice incident D101" in reply
    assert hotline.text(FRONT_DESK, STAFF_LINE, "1")[0].startswith("DRILL - practice only.")
    hotline.run_jobs()
    assert bodies(hotline.fake, LEGAL)[0].startswith("DRILL - practice only. ICE AT SCHOOL - incident D101")
    assert not hotline.fake.messages_to(SAFETY) and not hotline.fake.messages_to(PRINCIPAL)
    assert hotline.services.incidents.list("demo") == []
    assert [i.id for i in hotline.services.incidents.list("demo", drills=True)] == ["D101"]
    assert "Practice" not in hotline.text(ROOSEVELT_DESK, STAFF_LINE, "ICE")[0]
    assert incident(hotline, "101").drill is False


def test_when_legal_is_closed_safety_comes_first(make_hotline):
    hotline = make_hotline({"office_hours": {"legal": ALWAYS_CLOSED}})
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert hotline.fake.messages_to(SAFETY) and hotline.fake.calls_to(SAFETY)
    assert incident(hotline).policy["legal_open"] is False
    assert incident(hotline).policy["tiers"][0]["notify"][0] == ["safety", "sms"]


def test_a_staff_call_speaks_the_protocol_and_rings_down_to_voicemail(hotline):
    call = hotline.call(FRONT_DESK, STAFF_LINE)
    assert "officers are at your school, press 1 or stay on the line" in call.turn.said
    call = hotline.phone.silence(call)                                   # the default: officers at the school
    said = call.turn.said
    assert "Stay calm and polite" in said and "wait outside" in said and "press star at any time" in said.lower()
    assert incident(hotline).type == "ice", "the incident starts at once"
    call = hotline.phone.press(call, "1")                                # put me through now
    assert call.turn.dial["numbers"][0][0] == LEGAL
    heard = hotline.phone.pick_up(call)                                  # a voicemail box: no key
    assert "Staff line call about incident 101 at Lincoln Elementary. Press 1 to take it." in heard.said
    call = hotline.phone.dial_result(call, "completed")                  # the box "answered"
    assert call.turn.dial["numbers"][0][0] == SAFETY, "a voicemail box is no answer: the ringdown goes on"
    call = hotline.phone.dial_result(call, "busy")
    assert call.turn.record and "After the beep" in call.turn.said
    call = hotline.phone.record(call, "https://api.twilio.com/recordings/RE123")
    assert call.turn.hangup and "We will text you who takes the incident" in call.turn.said
    assert incident(hotline).details["voicemail"] == "https://api.twilio.com/recordings/RE123"
    assert incident(hotline).status == "open"
    hotline.run_jobs()
    assert hotline.fake.messages_to(LEGAL), "the call's incident escalates like a text's"


def test_incidents_command_lists_shows_and_exports(hotline, monkeypatch):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.text(FRONT_DESK, STAFF_LINE, "Agent Smith 4471")
    hotline.run_jobs()
    monkeypatch.setenv("REDIS_URL", hotline.settings.redis_url)
    monkeypatch.setenv("HOTLINE_DISTRICT", str(hotline.settings.district_path))
    runner = CliRunner()
    listing = runner.invoke(main, ["incidents", "list"]).output
    assert "101" in listing and "Lincoln Elementary" in listing and "Maria Lopez" in listing
    shown = runner.invoke(main, ["incidents", "show", "101"]).output
    assert "agent_name_badge: Agent Smith 4471" in shown and "texted Office of Legal Counsel" in shown
    exported = json.loads(runner.invoke(main, ["incidents", "export", "--format", "json"]).output)
    assert exported[0]["id"] == "101" and exported[0]["details"]["agent_name_badge"] == "Agent Smith 4471"
    assert exported[0]["reported"].endswith(("-07:00", "-06:00")), "district local time"
    csv_text = runner.invoke(main, ["incidents", "export", "--format", "csv"]).output
    assert csv_text.splitlines()[0].startswith("district,id,type")


@pytest.mark.parametrize("body", ["ICE", "RECORDS"])
def test_redis_down_still_gives_the_protocol_and_says_failed(make_hotline, body):
    hotline = make_hotline(redis_url="redis://127.0.0.1:1/0")
    reply = "\n".join(hotline.text(FRONT_DESK, STAFF_LINE, body))
    first = "ICE AT SCHOOL" if body == "ICE" else "REQUEST FOR STUDENT INFORMATION"
    assert reply.index(first) < reply.index("AUTOMATIC NOTIFICATION FAILED")
    assert "(303) 555-0110" in reply and "(303) 555-0111" in reply


def test_staff_code_attempts_by_phone_are_rate_limited_too(hotline):
    for _ in range(2):
        call = hotline.phone.press(hotline.call(STRANGER, STAFF_LINE), "1")
        for code in ("1111", "2222", "3333"):
            if call.turn.gather:
                call = hotline.phone.press(call, code)
    call = hotline.phone.press(hotline.call(STRANGER, STAFF_LINE), "1")
    call = hotline.phone.press(call, "482193")                                # right, but past the limit
    call = hotline.phone.press(call, "1") if not call.turn.dial else call   # put through to legal
    assert call.turn.dial, "still connected to the legal office"
    assert hotline.services.incidents.list("demo") == [], "no code was checked: no incident, nobody alerted"


# Answers that walk the text protocol step by step (name, waiting, supervisor, purpose, warrant, photo).
PROTOCOL_ANSWERS = ["Agent Smith 4471", "1", "0", "a student", "1", "0"]


@pytest.mark.parametrize("step", range(len(PROTOCOL_ANSWERS) + 1))
def test_emergency_from_every_step_of_the_text_protocol_reaches_the_exception(hotline, step):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    for answer in PROTOCOL_ANSWERS[:step]:
        hotline.text(FRONT_DESK, STAFF_LINE, answer)
    reply = "\n".join(hotline.text(FRONT_DESK, STAFF_LINE, "EMERGENCY"))
    assert reply.startswith("EMERGENCY EXCEPTION: comply with the officers' order and do not interfere")
    assert "(303) 555-0110" in reply and "(303) 555-0111" in reply
    assert incident(hotline).urgent and len(hotline.services.incidents.list("demo")) == 1


@pytest.mark.parametrize("step", range(5))
def test_star_from_every_step_of_the_phone_protocol_reaches_the_exception(hotline, step):
    call = hotline.phone.press(hotline.call(FRONT_DESK, STAFF_LINE), "1")
    call = hotline.phone.press(call, "2")                                   # the questions first
    for answer in ("record", "1", "7205550188", "record")[:step]:
        call = hotline.phone.record(call, "https://api.twilio.com/recordings/RE1") if answer == "record" \
            else hotline.phone.press(call, answer)
    call = hotline.phone.press(call, "*")
    assert call.turn.said.startswith("EMERGENCY EXCEPTION")
    assert "3 0 3 5 5 5 0 1 1 0" in call.turn.said and "3 0 3 5 5 5 0 1 1 1" in call.turn.said
    assert call.turn.dial["numbers"][0][0] == LEGAL, "then put through to the legal office"
    assert incident(hotline).urgent


def test_the_records_protocol_by_phone_puts_the_caller_through_to_legal(hotline):
    call = hotline.phone.press(hotline.call(FRONT_DESK, STAFF_LINE), "2")
    assert "Do not give out any student information" in call.turn.said
    call = hotline.phone.press(call, "1")
    assert call.turn.dial["numbers"][0][0] == LEGAL
    assert incident(hotline).type == "records"


def test_three_wrong_codes_by_phone_still_put_the_caller_through_to_legal(hotline):
    call = hotline.phone.press(hotline.call(STRANGER, STAFF_LINE), "1")
    for code in ("1111", "2222", "3333"):
        call = hotline.phone.press(call, code)
    assert "nobody has been alerted by the hotline" in call.turn.said
    assert call.turn.dial and call.turn.dial["numbers"][0][0] == LEGAL, "put through to the legal office anyway"
    assert hotline.services.incidents.list("demo") == []


def test_an_unverified_caller_nobody_answers_is_not_promised_a_voicemail_or_a_text(hotline):
    call = hotline.phone.press(hotline.call(STRANGER, STAFF_LINE), "1")
    for code in ("1111", "2222", "3333"):
        call = hotline.phone.press(call, code)
    call = hotline.phone.dial_result(call, "no-answer")
    call = hotline.phone.dial_result(call, "busy")
    assert call.turn.hangup and not call.turn.record, "no voicemail: there is no incident to put it on"
    assert "the hotline has alerted nobody" in call.turn.said and "3 0 3 5 5 5 0 1 1 0" in call.turn.said
    assert "We will text you" not in call.turn.said


def _let_every_question_time_out(hotline, number: str) -> None:
    """Run each SMS question's timeout in turn, as the scheduled jobs would, until the conversation ends."""
    services = hotline.services
    key = sms_key("demo", STAFF_LINE, number)
    for _ in range(20):
        state = services.sessions.load(key)
        if not state or state.get("done"):
            return
        run_sms_timeout(services, "demo", STAFF_LINE, number, state["seq"])
    raise AssertionError("the conversation never ended")


def test_an_unknown_number_that_gives_no_code_is_never_told_it_has_an_incident(hotline):
    hotline.text(STRANGER, STAFF_LINE, "ICE")
    _let_every_question_time_out(hotline, STRANGER)
    texts = bodies(hotline.fake, STRANGER)
    assert texts, "the questions and the end were texted"
    assert "the hotline has alerted nobody" in texts[-1] and "(303) 555-0110" in texts[-1], texts[-1]
    assert not any("incident" in text.lower() for text in texts), texts
    assert hotline.services.incidents.for_reporter("demo", STRANGER) is None


def test_an_unknown_number_that_texts_emergency_is_told_nobody_was_alerted(hotline):
    hotline.text(STRANGER, STAFF_LINE, "ICE")
    replies = hotline.text(STRANGER, STAFF_LINE, "EMERGENCY")
    assert "Comply" in replies[0] or "comply" in replies[0]
    assert "the hotline has alerted nobody" in replies[-1], replies
    assert "{incident}" not in " ".join(replies) and "who has incident" not in " ".join(replies)
