"""The incident state model (hotline/incidents/states.py, docs/incidents.md): who may take, stand
down and close; notices that are true when sent; a ringdown that counts. Each test is named after
the problem of issue 11 it guards against, and failed before the state model existed."""

from __future__ import annotations

import pytest

from conftest import (ALWAYS_CLOSED, BACKUP, DESIGNEE, FAST_TIERS, FRONT_DESK, INTERPRETER, LEGAL, PRINCIPAL,
                      SAFETY, STAFF_LINE, STRANGER, bodies, incident, timeline_text)
from hotline.incidents import changes

FAST = FAST_TIERS


# --- 1. Everyday words never change an incident ------------------------------------------------------

@pytest.mark.parametrize("everyday", ["Listo", "xong rồi", "Done", "ok", "Terminado", "انتهى", "DHAMMAADAY",
                                      "Left the copies at the desk", "ready", "ACK?", "close the door"])
def test_problem_1_everyday_words_never_close_or_change_a_live_incident(hotline, everyday):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    for answer in ("Agent Smith", "1", "0", "a student", "1"):          # to the photo step
        hotline.text(FRONT_DESK, STAFF_LINE, answer)
    hotline.text(FRONT_DESK, STAFF_LINE, everyday)
    hotline.run_jobs()
    record = incident(hotline)
    assert record.status == "open" and record.left_at is None and not record.urgent
    assert record.escalation_started
    assert "closed" not in timeline_text(hotline) and "left" not in timeline_text(hotline).replace("officers left", "")


def test_problem_1_done_alone_only_asks_and_left_alone_records_without_closing(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    asked = hotline.text(FRONT_DESK, STAFF_LINE, "done")[0]
    assert "Have the officers left?" in asked
    assert incident(hotline).left_at is None
    hotline.text(FRONT_DESK, STAFF_LINE, "LEFT")
    hotline.run_jobs()
    record = incident(hotline)
    assert record.left_at is not None and record.status == "open", "LEFT never closes"
    assert "says the officers have left" in timeline_text(hotline)


def test_problem_1_the_catalogs_teach_no_everyday_word_that_changes_an_incident(hotline):
    catalogs = hotline.services.content(hotline.services.directory.single).catalogs
    for code in catalogs.codes:
        for key, entry in catalogs.get(code).entries.items():
            for word in ("LISTO", "TERMINADO", "XONG", "DHAMMAADAY", "TIAV LAWM", "HOTOM"):
                assert f"text {word}".lower() not in entry.text.lower(), (code, key)


# --- 2. Only a contact alerted to this incident, in a role that may take it, takes it -----------------

def test_problem_2_the_interpreter_line_cannot_take_an_incident(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    reply = hotline.text(INTERPRETER, STAFF_LINE, "ACK 101")[0]
    assert "nothing was changed" in reply.lower()
    hotline.run_jobs()
    assert incident(hotline).status == "open" and incident(hotline).acknowledged_by is None
    assert not any("No action needed" in b for b in bodies(hotline.fake, LEGAL) + bodies(hotline.fake, SAFETY))


def test_problem_2_a_contact_not_yet_alerted_cannot_take(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert "not alerted to incident 101" in hotline.text(DESIGNEE, STAFF_LINE, "ACK 101")[0]
    assert incident(hotline).status == "open"


# --- 3. Safety responds to an ICE visit; only legal takes a records request -----------------------------

def test_problem_3_safety_responding_does_not_stand_legal_down(make_hotline):
    hotline = make_hotline(FAST)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs(until=lambda: hotline.fake.messages_to(SAFETY))
    reply = hotline.text(SAFETY, STAFF_LINE, "ACK 101")[0]
    assert "You are responding to incident 101" in reply and "still being alerted" in reply
    assert incident(hotline).status == "responding"
    fake = hotline.fake
    assert hotline.run_jobs(until=lambda: fake.calls_to(LEGAL) and fake.messages_to(BACKUP), timeout=15), \
        "the escalation to the legal office goes on"
    assert any("Department of Safety is responding on site. It still needs the legal office" in b
               for b in bodies(fake, LEGAL))
    assert not any("No action needed" in b for b in bodies(fake, LEGAL))
    assert any("Department of Safety is responding to incident 101" in b for b in bodies(fake, FRONT_DESK))
    assert "You have incident 101" in hotline.text(LEGAL, STAFF_LINE, "ACK 101")[0]
    assert incident(hotline).status == "taken"


def test_problem_3_safety_cannot_take_a_records_request_and_the_front_desk_cannot_close_it(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "RECORDS")
    hotline.run_jobs()
    reply = hotline.text(SAFETY, STAFF_LINE, "ACK 101")[0]
    assert "only the legal office can take it" in reply
    hotline.text(FRONT_DESK, STAFF_LINE, "LEFT")
    hotline.text(FRONT_DESK, STAFF_LINE, "DONE")
    hotline.text(FRONT_DESK, STAFF_LINE, "1")
    hotline.run_jobs()
    record = incident(hotline)
    assert record.status == "open" and record.acknowledged_by is None
    assert not any("No action needed" in b for b in bodies(hotline.fake, LEGAL))
    assert "Only the legal office can close" in hotline.text(SAFETY, STAFF_LINE, "CLOSE 101")[0]


# --- 4. "Nobody reached" only when every send has failed ---------------------------------------------

def test_problem_4_a_failed_legal_text_does_not_say_nobody_was_reached(hotline):
    hotline.fake.fail_next(status=400, code=21614, to=LEGAL)             # a landline
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert hotline.fake.messages_to(SAFETY)
    assert not any("could not be delivered" in b for b in bodies(hotline.fake, FRONT_DESK))
    assert "all_failed" not in [e["kind"] for e in hotline.services.incidents.timeline("demo", "101")]


def test_problem_4_when_every_send_fails_the_reporter_is_told_once(make_hotline):
    hotline = make_hotline({"escalation": {"tiers": [{"notify": ["legal_office sms", "safety sms"], "wait": "30s"}],
                                           "rounds": 1}})
    for number in (LEGAL, SAFETY):
        hotline.fake.fail_next(status=400, code=21211, to=number)        # invalid: no call either
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    told = [b for b in bodies(hotline.fake, FRONT_DESK) if "could not be delivered to anyone so far" in b]
    assert len(told) == 1


# --- 5. A repeated ICE or call reports the real holder -------------------------------------------------

def test_problem_5_a_repeated_ice_after_ack_names_who_has_it(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    hotline.text(LEGAL, STAFF_LINE, "ACK")
    again = "\n".join(hotline.text(FRONT_DESK, STAFF_LINE, "ICE"))
    assert "Incident 101 is open. Office of Legal Counsel has it." in again
    assert "still alerting" not in again.lower()


def test_problem_5_a_call_after_ack_names_who_has_it(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    hotline.text(LEGAL, STAFF_LINE, "ACK")
    call = hotline.phone.silence(hotline.call(FRONT_DESK, STAFF_LINE))
    assert "Office of Legal Counsel has it" in call.turn.said


# --- 6. Urgent is done, not claimed ---------------------------------------------------------------------

def test_problem_6_urgent_before_anyone_is_reached_says_so_and_every_later_alert_says_urgent(make_hotline):
    hotline = make_hotline(FAST)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "EMERGENCY")[0]         # before any job ran
    assert "nobody has been reached yet" in reply.lower() and "We are telling" not in reply
    assert incident(hotline).urgent
    fake = hotline.fake
    assert hotline.run_jobs(until=lambda: fake.messages_to(BACKUP) and fake.messages_to(DESIGNEE), timeout=15)
    for number in (LEGAL, SAFETY, BACKUP, DESIGNEE):
        assert bodies(fake, number)[0].startswith("URGENT - "), number


def test_problem_6_urgent_after_contacts_were_reached_tells_them_at_once(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "emergency")[0]
    assert "We are telling Office of Legal Counsel, Department of Safety at once" in reply
    hotline.run_jobs()
    for number in (LEGAL, SAFETY):
        assert any(b.startswith("URGENT - incident 101: the officers say it is an emergency") for b in bodies(
            hotline.fake, number))


# --- 7. A staff call that connected counts; a voicemail box does not; after hours safety first --------

def test_problem_7_a_screened_call_that_legal_accepts_takes_the_incident(hotline):
    call = hotline.phone.silence(hotline.call(FRONT_DESK, STAFF_LINE))
    call = hotline.phone.press(call, "1")
    heard = hotline.phone.pick_up(call, digits="1")
    assert "You have incident 101. Connecting you now." in heard.said and not heard.hangup
    call = hotline.phone.dial_result(call, "completed")
    assert call.turn.hangup and not call.turn.dial
    record = incident(hotline)
    assert record.status == "taken" and record.acknowledged_by == "legal_office"
    assert "taken by Office of Legal Counsel (staff call)" in timeline_text(hotline)
    hotline.run_jobs()
    status = hotline.text(FRONT_DESK, STAFF_LINE, "STATUS")[0]
    assert "Has it: Office of Legal Counsel" in status


def test_problem_7_after_hours_the_staff_call_rings_safety_first(make_hotline):
    hotline = make_hotline({"office_hours": {"legal": ALWAYS_CLOSED}})
    call = hotline.phone.press(hotline.phone.silence(hotline.call(FRONT_DESK, STAFF_LINE)), "1")
    assert call.turn.dial["numbers"][0][0] == SAFETY
    heard = hotline.phone.pick_up(call, digits="1")
    assert "You are responding to incident 101" in heard.said
    assert incident(hotline).status == "responding", "safety responds; legal is still alerted"


# --- 8. Unlisted staff choose their school; wrong codes give a next step --------------------------------

def test_problem_8_three_wrong_codes_end_with_a_clear_next_step(hotline):
    hotline.text(STRANGER, STAFF_LINE, "ICE")
    for code in ("1111", "2222"):
        hotline.text(STRANGER, STAFF_LINE, code)
    failed = hotline.text(STRANGER, STAFF_LINE, "3333")[0]
    assert "nobody has been alerted" in failed and "To try again, text ICE" in failed
    after = hotline.text(STRANGER, STAFF_LINE, "1")[0]
    assert "Safe Haven staff line. Text ICE" in after, "a later answer is not read as a menu choice"
    hotline.run_jobs()
    assert hotline.fake.messages == []


# --- 9. What the reporter reads matches what happened --------------------------------------------------

def test_problem_9_left_from_an_unverified_reporter_says_nobody_was_alerted(hotline):
    hotline.text(STRANGER, STAFF_LINE, "ICE")
    reply = hotline.text(STRANGER, STAFF_LINE, "LEFT")[0]
    assert "nobody has been alerted yet" in reply and "(303) 555-0110" in reply
    assert "We are telling" not in reply and "has incident" not in reply
    assert hotline.services.incidents.list("demo") == [], "an unverified report is no incident"


def test_problem_9_a_drill_s_replies_say_drill_and_name_only_drill_contacts(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "DRILL")
    hotline.run_jobs()
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "LEFT")[0]
    assert reply.startswith("DRILL - practice only.")
    assert "Office of Legal Counsel" in reply and "Department of Safety" not in reply
    status = hotline.text(FRONT_DESK, STAFF_LINE, "STATUS")[0]
    assert status.startswith("DRILL - practice only.")


# --- LEAD and CLOSE ------------------------------------------------------------------------------------

def test_the_school_leader_takes_charge_with_lead(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    reply = hotline.text(PRINCIPAL, STAFF_LINE, "LEAD")[0]
    assert "You are in charge on site for incident 101" in reply
    hotline.run_jobs()
    assert incident(hotline).lead_name == "David Chen"
    assert "school leader David Chen took charge on site" in timeline_text(hotline)
    assert any("David Chen, your school leader, is now in charge" in b for b in bodies(hotline.fake, FRONT_DESK))
    assert any("the school leader David Chen has taken charge" in b for b in bodies(hotline.fake, LEGAL))
    # The leader may now have the protocol's questions, on the same incident.
    protocol = hotline.text(PRINCIPAL, STAFF_LINE, "ICE")[0]
    assert "ICE AT SCHOOL" in protocol and "Incident 101 is open" in protocol
    assert hotline.services.incidents.list("demo")[0].id == "101" and len(hotline.services.incidents.list("demo")) == 1
    assert "Only the school leader" in hotline.text(FRONT_DESK, STAFF_LINE, "LEAD")[0]


def test_close_is_for_legal_roles_that_were_alerted(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert "Only the legal office can close" in hotline.text(SAFETY, STAFF_LINE, "CLOSE 101")[0]
    assert "Nothing was changed" in hotline.text(LEGAL, STAFF_LINE, "close it now")[0]
    assert "Incident 101 is closed" in hotline.text(LEGAL, STAFF_LINE, "CLOSE 101")[0]
    assert incident(hotline).status == "closed" and incident(hotline).closed_by == "Office of Legal Counsel"


def test_a_contact_whose_alert_is_still_on_its_way_may_take_it(hotline):
    """Legal is in the first tier: an ACK that races its own alert text is not refused."""
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")                        # no job has run yet
    assert "You have incident 101" in hotline.text(LEGAL, STAFF_LINE, "ACK 101")[0]
    assert "not alerted" in hotline.text(BACKUP, STAFF_LINE, "ACK 101")[0], "backup counsel is a later tier"


# --- Review mends: a repeat says where it stands, and "being told" names who is -----------------

def test_a_second_left_or_emergency_tells_nobody_again_and_says_so(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    first = hotline.text(FRONT_DESK, STAFF_LINE, "LEFT")[0]
    assert "We are telling Office of Legal Counsel, Department of Safety" in first
    hotline.run_jobs()
    told = {number: len(bodies(hotline.fake, number)) for number in (LEGAL, SAFETY)}
    again = hotline.text(FRONT_DESK, STAFF_LINE, "LEFT")[0]
    assert "telling" not in again and "Incident 101 is open" in again, again
    urgent = hotline.text(FRONT_DESK, STAFF_LINE, "EMERGENCY")[-1]
    assert "We are telling" in urgent
    hotline.run_jobs()
    told = {number: len(bodies(hotline.fake, number)) for number in (LEGAL, SAFETY)}
    urgent_again = hotline.text(FRONT_DESK, STAFF_LINE, "EMERGENCY")[-1]
    hotline.run_jobs()
    assert "We are telling" not in urgent_again, urgent_again
    assert {number: len(bodies(hotline.fake, number)) for number in (LEGAL, SAFETY)} == told


def test_lead_names_who_is_told_and_a_repeat_sends_nothing(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")          # nobody reached yet: no job has run
    reply = hotline.text(PRINCIPAL, STAFF_LINE, "LEAD")[0]
    assert "the reporter is being told. Nobody else has been reached yet" in reply, reply
    assert "legal office are being told" not in reply
    hotline.run_jobs()
    sent = len(hotline.fake.messages)
    again = hotline.text(PRINCIPAL, STAFF_LINE, "LEAD")[0]
    assert "David Chen is already in charge on site for incident 101" in again, again
    hotline.run_jobs()
    assert len(hotline.fake.messages) == sent


def test_the_contact_who_took_it_on_the_staff_call_is_told_the_officers_left(hotline):
    """Put through by the staff call, the legal office took the incident before any alert of theirs
    went out: "is being told the officers left" must still be true."""
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")            # no job run: no alert sent to anyone
    district = hotline.services.directory.single
    legal = district.first_contact("legal")
    actor = changes.Actor("legal", legal.id, legal.name, legal.number, "staff call")
    assert changes.take(hotline.services, district, incident(hotline), actor).changed
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "LEFT")[0]
    assert "Office of Legal Counsel has incident 101 and is being told the officers left" in reply, reply
    hotline.run_jobs()
    assert any("officers have left" in b for b in bodies(hotline.fake, LEGAL)), bodies(hotline.fake, LEGAL)
