"""The staff line: the ICE protocol by text and by call, incidents, escalation until a human
acknowledges, records requests, the staff code, drills. Real Redis, RQ workers and the local
Twilio-compatible server; requests signed as Twilio signs them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import (ALWAYS_CLOSED, BACKUP, DESIGNEE, FRONT_DESK, LEGAL, PRINCIPAL, ROOSEVELT_DESK, SAFETY,
                      STAFF_LINE, STRANGER)
from hotline.cli import main

FAST = {"escalation": {"tiers": [
    {"notify": ["legal_office sms", "safety sms"], "wait": "1s"},
    {"notify": ["legal_office voice", "safety voice", "backup_counsel sms"], "wait": "1s"},
    {"notify": ["designee sms", "designee voice"], "wait": "1s"},
], "rounds": 1}}


def bodies(fake, number):
    return [m["body"] for m in fake.messages_to(number)]


def incident(hotline, incident_id="101"):
    return hotline.services.incidents.get("demo", incident_id)


def timeline_text(hotline, incident_id="101"):
    return "\n".join(e["text"] for e in hotline.services.incidents.timeline("demo", incident_id))


def test_ice_from_the_front_desk_gives_first_steps_and_alerts_legal_and_safety(hotline):
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "ice")[0]
    assert reply.startswith("ICE AT SCHOOL - DO THIS NOW:"), "the protocol comes first"
    assert "Stay calm and polite" in reply
    assert "Do not let agents past the front office" in reply
    # the safety contact as the district names it (districts/demo.yaml: "Department of Safety")
    assert "Incident 101: we are texting the legal office and Department of Safety now" in reply
    assert "Ask the agents to wait outside" in reply, "the next step comes in the same reply"
    hotline.run_jobs()
    for number in (LEGAL, SAFETY):
        [body] = bodies(hotline.fake, number)
        assert body.startswith("ICE AT SCHOOL - incident 101: Lincoln Elementary.")
        assert "Maria Lopez, front desk, (303) 555-0120" in body and "Reply ACK 101" in body
    [leader] = bodies(hotline.fake, PRINCIPAL)
    assert "incident 101" in leader and "Lincoln Elementary" in leader
    assert all(m["from"] == STAFF_LINE for m in hotline.fake.messages), "replies must reach the hotline"
    record = incident(hotline)
    assert (record.type, record.school, record.verification, record.status) == ("ice", "lincoln", "roster", "open")


def test_the_protocol_walks_step_by_step_and_every_answer_lands_on_the_incident(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert "agent's name and badge number" in hotline.text(FRONT_DESK, STAFF_LINE, "1")[0]
    assert "supervisor's phone" in hotline.text(FRONT_DESK, STAFF_LINE, "Agent R. Smith, badge 4471")[0]
    assert "phone number" in hotline.text(FRONT_DESK, STAFF_LINE, "call him")[0], "a bad number is asked again"
    assert "purpose" in hotline.text(FRONT_DESK, STAFF_LINE, "(720) 555-0188")[0]
    warrant = hotline.text(FRONT_DESK, STAFF_LINE, "Looking for a student, Juan Perez")[0]
    assert "warrant" in warrant and "1 - Yes" in warrant
    assert "photo of every page" in hotline.text(FRONT_DESK, STAFF_LINE, "1")[0]
    exigent = hotline.text(FRONT_DESK, STAFF_LINE, "", media=("https://api.twilio.com/media/ME1",
                                                               "https://api.twilio.com/media/ME2"))[0]
    assert "exigent circumstances" in exigent
    holding = hotline.text(FRONT_DESK, STAFF_LINE, "2")[0]
    assert "Text STATUS" in holding
    details = incident(hotline).details
    assert details == {
        "agents_waiting": "waiting", "agent_name_badge": "Agent R. Smith, badge 4471",
        "supervisor_phone": "+17205550188", "purpose": "Looking for a student, Juan Perez", "warrant": "yes",
        "document_photos": ["https://api.twilio.com/media/ME1", "https://api.twilio.com/media/ME2"], "exigent": "no",
    }
    hotline.run_jobs()
    escalations = bodies(hotline.fake, LEGAL) + bodies(hotline.fake, SAFETY)
    assert escalations and not any("Juan" in b or "Perez" in b for b in escalations), "no student names"


def test_exigent_circumstances_make_the_incident_urgent(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "2")[0]       # they will not wait
    assert "exigent circumstances" in reply
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "1")[0]       # they say it is an emergency
    assert "EMERGENCY EXCEPTION: comply with the order" in reply and "Do not argue" in reply
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
    assert incident(hotline).status == "acknowledged"


def test_nobody_acknowledging_is_told_to_the_reporter(make_hotline):
    hotline = make_hotline(FAST)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert hotline.run_jobs(until=lambda: any("Nobody has confirmed" in b for b in bodies(hotline.fake, FRONT_DESK)),
                            timeout=20)
    assert hotline.fake.calls_to(DESIGNEE) and hotline.fake.messages_to(DESIGNEE)


def test_ack_alone_works_when_one_incident_awaits_the_contact(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert "You have incident 101" in hotline.text(SAFETY, STAFF_LINE, "ack")[0]
    assert incident(hotline).acknowledged_by == "safety"
    later = hotline.text(LEGAL, STAFF_LINE, "ACK 101")[0]
    assert "taken by Department of Safety" in later, "a second acknowledgement changes nothing"
    assert incident(hotline).acknowledged_by == "safety"


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
    hotline.text(FRONT_DESK, STAFF_LINE, "Officer Dana Kim, ID 88123")
    hotline.text(FRONT_DESK, STAFF_LINE, "1")                       # ICE or immigration
    hotline.text(FRONT_DESK, STAFF_LINE, "Enrollment dates and home address")
    hotline.text(FRONT_DESK, STAFF_LINE, "2")                       # subpoena
    done = hotline.text(FRONT_DESK, STAFF_LINE, "0")[0]             # no photo
    assert "legal office has this request (incident 101)" in done
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
    verified = hotline.text(STRANGER, STAFF_LINE, "4821")[0]
    assert "Code accepted. Incident 101" in verified
    hotline.run_jobs()
    [body] = bodies(hotline.fake, LEGAL)
    assert "an unlisted number (staff code given)" in body and "(303) 555-0199" in body
    assert incident(hotline).verification == "code"


def test_staff_code_attempts_are_rate_limited(hotline):
    hotline.text(STRANGER, STAFF_LINE, "ICE")
    for attempt in range(5):
        hotline.text(STRANGER, STAFF_LINE, f"000{attempt}")
        if attempt % 3 == 2:
            hotline.text(STRANGER, STAFF_LINE, "ICE")       # start again after the flow gave up
    locked = hotline.text(STRANGER, STAFF_LINE, "4821")[0]
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
    assert "acknowledged by Office of Legal Counsel (phone call)" in timeline_text(live)


def test_status_and_done(hotline):
    assert "no open incident" in hotline.text(FRONT_DESK, STAFF_LINE, "STATUS")[0]
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    status = hotline.text(FRONT_DESK, STAFF_LINE, "status")[0]
    assert "Incident 101 (open)" in status and "Department of Safety" in status and "Has it: nobody yet" in status
    hotline.text(SAFETY, STAFF_LINE, "ACK 101")
    assert "Has it: Department of Safety" in hotline.text(FRONT_DESK, STAFF_LINE, "STATUS")[0]
    done = hotline.text(FRONT_DESK, STAFF_LINE, "DONE")[0]
    assert "Incident 101 is closed on your side" in done
    hotline.run_jobs()
    assert any("reporter says the agents have left" in b for b in bodies(hotline.fake, LEGAL))
    assert incident(hotline).status == "closed"


def test_a_second_ice_reuses_the_open_incident(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    again = hotline.text(FRONT_DESK, STAFF_LINE, "ICE!")[0]
    assert "already have incident 101 open" in again
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
    assert "Do not let agents past the front office" in call.turn.said
    assert call.turn.dial["numbers"][0][0] == LEGAL
    assert incident(hotline).type == "ice", "the incident starts at once"
    call = hotline.phone.dial_result(call, "no-answer")
    assert call.turn.dial["numbers"][0][0] == SAFETY
    call = hotline.phone.dial_result(call, "busy")
    assert call.turn.record and "After the beep" in call.turn.said
    call = hotline.phone.record(call, "https://api.twilio.com/recordings/RE123")
    assert call.turn.hangup and "legal office will call you back" in call.turn.said
    assert incident(hotline).details["voicemail"] == "https://api.twilio.com/recordings/RE123"
    hotline.run_jobs()
    assert hotline.fake.messages_to(LEGAL), "the call's incident escalates like a text's"


def test_incidents_command_lists_shows_and_exports(hotline, monkeypatch):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.text(FRONT_DESK, STAFF_LINE, "1")
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
    assert "DO THIS NOW" in reply
    assert reply.index("DO THIS NOW") < reply.index("AUTOMATIC NOTIFICATION FAILED") and "(303) 555-0110" in reply and "(303) 555-0111" in reply


def test_staff_code_attempts_by_phone_are_rate_limited_too(hotline):
    for _ in range(3):
        call = hotline.call(STRANGER, STAFF_LINE)
        call = hotline.phone.press(call, "1111")
        call = hotline.phone.press(call, "2222") if call.turn.gather else call
    call = hotline.call(STRANGER, STAFF_LINE)
    call = hotline.phone.press(call, "4821")                                # right, but past the limit
    assert call.turn.dial, "still connected to the legal office"
    assert hotline.services.incidents.get("demo", "101").verification == "pending"
