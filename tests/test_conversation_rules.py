"""Conversation rules every flow shares: Twilio's reserved words, timeouts on unanswered
questions, help after repeated wrong answers, and keywords that interrupt (or do not)."""

from __future__ import annotations

import shutil

import yaml
from conftest import FAMILY_LINE, FRONT_DESK, LEGAL, PARENT, STAFF_LINE
from rq.registry import ScheduledJobRegistry

from hotline.content import flows_dir
from hotline.optout import is_opted_out


def test_reserved_words_get_an_empty_answer_and_are_recorded(hotline):
    hotline.text(PARENT, FAMILY_LINE, "hola")
    assert hotline.text(PARENT, FAMILY_LINE, "STOP") == [], "Twilio answers STOP itself"
    assert is_opted_out(hotline.services.redis, FAMILY_LINE, PARENT)
    assert hotline.text(PARENT, FAMILY_LINE, "help") == []
    assert hotline.text(PARENT, FAMILY_LINE, "START") == []
    assert not is_opted_out(hotline.services.redis, FAMILY_LINE, PARENT)


def test_yes_is_an_opt_in_only_for_a_number_that_opted_out(hotline):
    hotline.text(PARENT, FAMILY_LINE, "hello")
    hotline.text(PARENT, FAMILY_LINE, "2")
    assert hotline.text(PARENT, FAMILY_LINE, "yes"), "an ordinary answer for a number that did not opt out"
    hotline.text(PARENT, FAMILY_LINE, "STOP")
    assert hotline.text(PARENT, FAMILY_LINE, "YES") == []
    assert not is_opted_out(hotline.services.redis, FAMILY_LINE, PARENT)


def test_a_district_that_answers_reserved_words_itself_does_so_in_the_callers_language(make_hotline):
    hotline = make_hotline({"district": {"twilio_answers_reserved_words": False}})
    hotline.text(PARENT, FAMILY_LINE, "hola")
    [stop] = hotline.text(PARENT, FAMILY_LINE, "stop")
    assert stop == hotline.services.content(hotline.services.directory.single).catalogs.render("es", "reserved.stop").text
    [help_reply] = hotline.text(PARENT, FAMILY_LINE, "HELP")
    assert "STOP" in help_reply and "(303) 555-0115" in help_reply


def test_nothing_is_texted_to_a_number_that_opted_out(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "STOP")
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")          # the protocol still answers by TwiML
    hotline.run_jobs()
    hotline.text(LEGAL, STAFF_LINE, "ACK 101")
    hotline.run_jobs()
    assert hotline.fake.messages_to(FRONT_DESK) == [], "the 'legal has it' text is not sent"
    assert "could not text the reporter" in "\n".join(
        e["text"] for e in hotline.services.incidents.timeline("demo", "101"))


def short_timeouts(tmp_path, seconds: str = "1s") -> dict:
    """A district whose copy of the staff flows waits ``seconds`` for an answer by text."""
    flows = tmp_path / "flows"
    shutil.copytree(flows_dir(), flows)
    path = flows / "staff_ice.yaml"
    data = yaml.safe_load(path.read_text())
    data["defaults"]["timeout"]["sms"] = seconds
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return {"content": {"flows": str(flows)}}


def test_an_unanswered_question_moves_the_protocol_on_by_text(make_hotline, tmp_path):
    hotline = make_hotline(short_timeouts(tmp_path))
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    fake = hotline.fake
    assert hotline.run_jobs(until=lambda: any("waiting outside" in m["body"]
                                              for m in fake.messages_to(FRONT_DESK)), timeout=10)
    [step] = [m for m in fake.messages_to(FRONT_DESK) if "waiting outside" in m["body"]]
    assert step["from"] == STAFF_LINE
    # Answering in time cancels the next timeout: the supervisor question is not sent by itself.
    hotline.text(FRONT_DESK, STAFF_LINE, "1")
    hotline.text(FRONT_DESK, STAFF_LINE, "0")
    hotline.run_jobs(until=lambda: False, timeout=0.5)
    assert not any("supervisor's phone" in m["body"] for m in fake.messages_to(FRONT_DESK))


def test_a_family_conversation_times_out_quietly(make_hotline, tmp_path):
    flows = tmp_path / "flows"
    shutil.copytree(flows_dir(), flows)
    path = flows / "family_start.yaml"
    data = yaml.safe_load(path.read_text())
    data["defaults"]["timeout"]["sms"] = "1s"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    hotline = make_hotline({"content": {"flows": str(flows)}})
    hotline.text(PARENT, FAMILY_LINE, "hello")
    # Its timeout route ends quietly by text, so no timer is even scheduled.
    assert ScheduledJobRegistry(queue=hotline.services.queue).count == 0
    hotline.run_jobs(until=lambda: False, timeout=2.5)
    assert hotline.fake.messages_to(PARENT) == [], "no unsolicited texts to a family"
    # The conversation is still there (until its expiry): "1" answers the menu.
    assert "Which topic?" in hotline.text(PARENT, FAMILY_LINE, "1")[0]


def test_one_timer_per_conversation(make_hotline, tmp_path):
    hotline = make_hotline(short_timeouts(tmp_path, "1h"))
    registry = ScheduledJobRegistry(queue=hotline.services.queue)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.text(FRONT_DESK, STAFF_LINE, "Agent Smith")
    hotline.text(FRONT_DESK, STAFF_LINE, "1")
    timers = [j for j in registry.get_job_ids() if j.startswith("sms-timeout-")]
    assert len(timers) == 1, "each new question replaces the last one's timer"
    assert "3035550120" not in timers[0]
    for answer in ("0", "visit", "2", "2"):                     # to the end of the protocol
        hotline.text(FRONT_DESK, STAFF_LINE, answer)
    assert [j for j in registry.get_job_ids() if j.startswith("sms-timeout-")] == [], "and the end cancels it"


def test_help_after_repeated_wrong_answers(hotline):
    hotline.text(PARENT, FAMILY_LINE, "hello")
    first = hotline.text(PARENT, FAMILY_LINE, "9")[0]
    assert "Please reply with one of these numbers: 1, 2, 3, 4, 5." in first
    hotline.text(PARENT, FAMILY_LINE, "banana")
    third = hotline.text(PARENT, FAMILY_LINE, "seven")[0]
    assert "Having trouble? Reply MENU to start again, or call (303) 555-0115" in third
    assert "How can we help?" in third, "and the question again"


def test_a_keyword_interrupts_a_menu_but_not_a_free_text_answer(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "ICE agent Smith, badge 12")[0]
    assert "waiting outside" in reply, "an answer that starts with ICE is an answer"
    details = hotline.services.incidents.get("demo", "101").details
    assert details["agent_name_badge"] == "ICE agent Smith, badge 12"
    status = hotline.text(FRONT_DESK, STAFF_LINE, "STATUS")[0]
    assert "Incident 101 (open)" in status, "a keyword alone interrupts any question"
