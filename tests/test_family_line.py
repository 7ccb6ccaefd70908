"""The family line: languages, rights information, emergency-contact updates, concerns and a person
to talk to, by text and by phone."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from conftest import ALWAYS_CLOSED, CIVIL_RIGHTS, FAMILY_LINE, INTERPRETER, LIAISON, LINCOLN_OFFICE, PARENT
from hotline.cli import main
from hotline.content import demo_district, flows_dir, messages_dir
from hotline.variables import base_variables
from hotline.district import load_directory
from hotline.engine import load_flows
from hotline.messages import load_catalogs
from hotline.render.values import for_channel
from hotline.sessions import sms_key

CATALOGS = load_catalogs(messages_dir())
DEMO = load_directory(demo_district(), CATALOGS.codes).single


def text_of(lang: str, key: str, channel: str = "sms", **variables) -> str:
    """A catalog message as the hotline renders it (for expectations in any language), with the
    demo district's own values (its numbers, names and portal) for what is not given."""
    values = for_channel({**base_variables(DEMO, DEMO.line_of_kind("family")), **variables}, channel)
    return CATALOGS.render(lang, key, values, channel).text


# --- Choosing a language ------------------------------------------------------------------------

@pytest.mark.parametrize("greeting,lang", [("HOLA", "es"), ("hola!", "es"), ("Hello", "en"), ("xin chào", "vi"),
                                           ("مرحبا", "ar"), ("Soomaali", "so")])
def test_a_greeting_picks_its_language(hotline, greeting, lang):
    reply = hotline.text(PARENT, FAMILY_LINE, greeting)[0]
    assert text_of(lang, "family.menu.prompt") in reply
    assert text_of(lang, "family.menu.rights") in reply


def test_any_other_first_text_gets_the_languages_by_their_own_names(hotline):
    reply = hotline.text(PARENT, FAMILY_LINE, "?")[0]
    for number, name in enumerate(["English", "Español", "العربية", "Tiếng Việt", "Soomaali", "Hmoob",
                                   "မြန်မာ", "ကညီကျိာ်", "Ruáingga"], start=1):
        assert f"{number} - {name}" in reply
    menu = hotline.text(PARENT, FAMILY_LINE, "5")[0]
    assert text_of("so", "family.menu.prompt") in menu


def test_language_changes_the_language_at_any_time(hotline):
    hotline.text(PARENT, FAMILY_LINE, "hello")
    hotline.text(PARENT, FAMILY_LINE, "1")
    listing = hotline.text(PARENT, FAMILY_LINE, "LANGUAGE")[0]
    assert "2 - Español" in listing
    assert text_of("es", "language.chosen") in hotline.text(PARENT, FAMILY_LINE, "2")[0]
    menu = hotline.text(PARENT, FAMILY_LINE, "MENU")[0]
    assert text_of("es", "family.menu.prompt") in menu


def test_the_language_is_kept_for_the_conversation_only(hotline):
    hotline.text(PARENT, FAMILY_LINE, "HOLA")
    ttl = hotline.services.redis.ttl(sms_key("demo", FAMILY_LINE, PARENT))
    district = hotline.services.directory.single
    assert 0 < ttl <= district.retention.family_sessions
    hotline.services.redis.delete(sms_key("demo", FAMILY_LINE, PARENT))      # the conversation expired
    assert "1 - English" in hotline.text(PARENT, FAMILY_LINE, "?")[0]


def test_voice_language_menu_speaks_each_option_in_its_own_language(hotline):
    call = hotline.call(PARENT, FAMILY_LINE)
    spoken = call.turn.spoken
    spanish = next(s for s in spoken if s.text == text_of("es", "language.option", digit="2"))
    assert spanish.voice == "Polly.Lupe-Neural" and spanish.language == "es-US"
    arabic = next(s for s in spoken if s.text == text_of("ar", "language.option", digit="3"))
    assert arabic.language == "ar-XA"
    # Somali has no Twilio voice: its option is said in English, never Somali text in an English voice.
    somali = next(s for s in spoken if "Somali" in s.text)
    assert somali.text == "For Somali, press 5." and somali.language == "en-US"
    assert not any(s.text == text_of("so", "language.option", digit="5") for s in spoken)


def test_voice_silence_on_the_language_menu_means_the_default(hotline):
    call = hotline.call(PARENT, FAMILY_LINE)
    call = hotline.phone.silence(call)
    call = hotline.phone.silence(call)
    assert CATALOGS.render("en", "family.menu.prompt", {}, "voice").text in call.turn.said


def test_one_language_districts_skip_the_choice(make_hotline):
    hotline = make_hotline({"district": {"languages": ["es"], "default_language": "es"}})
    call = hotline.call(PARENT, FAMILY_LINE)
    assert text_of("es", "family.menu.prompt", "voice") in call.turn.said


def test_somali_by_phone_goes_to_the_interpreter_with_the_language(hotline):
    call = hotline.call(PARENT, FAMILY_LINE)
    call = hotline.phone.press(call, "5")
    assert call.turn.dial and call.turn.dial["numbers"][0] == (INTERPRETER, "/voice/whisper?district=demo&lang=so")
    assert all(s.language != "en-US" for s in call.turn.spoken), "no English voice reading Somali"
    whisper = hotline.phone.post("/voice/whisper?district=demo&lang=so", {"CallSid": call.sid, "To": INTERPRETER})
    assert "The caller speaks Somali" in whisper.text


def test_somali_recordings_are_played_when_they_exist(tmp_path, make_hotline):
    import shutil

    from hotline.recordings import missing_for_family_line
    from hotline.testing.audio import write_recordings

    content = tmp_path / "content"
    shutil.copytree(messages_dir(), content / "messages")
    needed = missing_for_family_line(CATALOGS, load_flows(flows_dir()), "so", ["Lincoln Elementary", "Roosevelt High"])
    write_recordings(content / "messages" / "audio" / "so", needed)
    hotline = make_hotline({"content": {"messages": str(content / "messages")}})
    call = hotline.call(PARENT, FAMILY_LINE)
    call = hotline.phone.press(call, "5")
    plays = [s.text for s in call.turn.spoken if s.kind == "play"]
    assert "/audio/demo/so/family.welcome.mp3" in plays and "/audio/demo/so/family.menu.prompt.mp3" in plays
    assert not any(s.kind == "say" for s in call.turn.spoken)
    served = hotline.app.test_client().get("/audio/demo/so/family.welcome.mp3")
    assert served.status_code == 200 and served.mimetype == "audio/mpeg"


# --- Rights information ---------------------------------------------------------------------

TOPICS = ["school", "status", "records", "agents", "detained", "report", "help"]


@pytest.mark.parametrize("lang,greeting", [("en", "hello"), ("es", "hola"), ("ar", "مرحبا"), ("so", "soomaali")])
def test_rights_topics_by_text(hotline, lang, greeting):
    hotline.text(PARENT, FAMILY_LINE, greeting)
    hotline.text(PARENT, FAMILY_LINE, "1")
    for number, topic in enumerate(TOPICS, start=1):
        reply = hotline.text(PARENT, FAMILY_LINE, str(number))[0]
        expected = text_of(lang, f"family.rights.{topic}", civil_rights_phone="(303) 555-0113",
                           resources="Front Range Immigrant Legal Aid (demo), (303) 555-0140; Know-your-rights "
                                     "workshops, https://demo-usd.example.org/know-your-rights")
        assert expected in reply
        assert text_of(lang, "family.rights.opt_another") in reply
        # after "if a parent is detained", option 1 is updating emergency contacts right there
        hotline.text(PARENT, FAMILY_LINE, "2" if topic == "detained" else "1")     # another topic


def test_rights_topics_by_voice_in_spanish(hotline):
    call = hotline.call(PARENT, FAMILY_LINE)
    call = hotline.phone.press(call, "2")
    call = hotline.phone.press(call, "1")
    call = hotline.phone.press(call, "5")
    assert text_of("es", "family.rights.detained", "voice") in call.turn.said
    assert call.turn.gather, "then: another topic or the main menu"


# --- Emergency-contact update ---------------------------------------------------------------

def update_by_text(hotline, greeting="hello"):
    hotline.text(PARENT, FAMILY_LINE, greeting)
    hotline.text(PARENT, FAMILY_LINE, "2")
    hotline.text(PARENT, FAMILY_LINE, "Ana Lopez")
    hotline.text(PARENT, FAMILY_LINE, "1")                  # Lincoln Elementary
    hotline.text(PARENT, FAMILY_LINE, "1")                  # add a contact
    hotline.text(PARENT, FAMILY_LINE, "Rosa Diaz")
    hotline.text(PARENT, FAMILY_LINE, "aunt")
    return hotline.text(PARENT, FAMILY_LINE, "555")[0]     # not a phone number


def test_an_emergency_contact_update_by_text(hotline):
    bad_number = update_by_text(hotline)
    assert text_of("en", "common.invalid_phone") in bad_number
    read_back = hotline.text(PARENT, FAMILY_LINE, "720 555 0177")[0]
    assert "You sent (720) 555-0177. Is that right?" in read_back
    review = hotline.text(PARENT, FAMILY_LINE, "1")[0]
    assert "Send this to Lincoln Elementary? New emergency contact for Ana Lopez: Rosa Diaz (aunt), (720) 555-0177." \
        in review
    sent = hotline.text(PARENT, FAMILY_LINE, "1")[0]
    assert "Your reference number is 1001" in sent
    [request] = hotline.services.requests.list("demo")
    assert (request.type, request.school, request.caller) == ("contact_update", "lincoln", PARENT)
    assert request.fields == {"change": "add", "student_name": "Ana Lopez", "contact_name": "Rosa Diaz",
                              "relationship": "aunt", "contact_phone": "+17205550177"}
    state = hotline.services.sessions.load(sms_key("demo", FAMILY_LINE, PARENT))
    assert state["answers"] == {}, "the conversation forgets what it handed to the office"


def test_an_emergency_contact_update_in_spanish(hotline):
    assert text_of("es", "common.invalid_phone") in update_by_text(hotline, "hola")
    hotline.text(PARENT, FAMILY_LINE, "720 555 0177")
    hotline.text(PARENT, FAMILY_LINE, "1")
    sent = hotline.text(PARENT, FAMILY_LINE, "1")[0]
    assert text_of("es", "family.update.sent", reference="1001") in sent
    assert hotline.services.requests.list("demo")[0].language == "es"


def test_an_emergency_contact_update_by_voice(hotline):
    phone = hotline.phone
    call = hotline.call(PARENT, FAMILY_LINE)
    call = phone.press(call, "1")                                     # English
    call = phone.press(call, "2")                                     # update contacts
    assert call.turn.record, "names are recorded by voice"
    call = phone.record(call, "https://api.twilio.com/recordings/RE1")
    assert call.turn.gather and "Lincoln Elementary: press 1." in call.turn.said
    call = phone.press(call, "1")
    call = phone.press(call, "1")                                     # add a contact
    call = phone.record(call, "https://api.twilio.com/recordings/RE2")
    call = phone.record(call, "https://api.twilio.com/recordings/RE3")
    call = phone.press(call, "555")
    assert text_of("en", "common.invalid_phone", "voice") in call.turn.said
    call = phone.press(call, "7205550177")
    assert "7 2 0 5 5 5 0 1 7 7" in call.turn.said, "the number is read back digit by digit"
    call = phone.press(call, "1")
    call = phone.press(call, "1")
    assert "reference number is 1001" in call.turn.said
    assert hotline.services.requests.list("demo")[0].fields["contact_phone"] == "+17205550177"


def test_the_school_office_is_notified_by_a_worker(make_live_hotline):
    live = make_live_hotline()
    update_by_text(live)
    live.text(PARENT, FAMILY_LINE, "7205550177")
    live.text(PARENT, FAMILY_LINE, "1")
    live.text(PARENT, FAMILY_LINE, "1")
    [notice] = live.fake.wait_for_messages(LINCOLN_OFFICE, timeout=20)
    assert notice["from"] == FAMILY_LINE
    assert "emergency-contact update request 1001 for Lincoln Elementary" in notice["body"]
    assert "Ana" not in notice["body"] and "Rosa" not in notice["body"], "names stay behind the dashboard sign-in"


# --- Concerns and a person to talk to ---------------------------------------------------------

def test_a_concern_can_be_anonymous(hotline):
    hotline.text(PARENT, FAMILY_LINE, "hello")
    assert text_of("en", "family.concern.intro") in hotline.text(PARENT, FAMILY_LINE, "3")[0]
    hotline.text(PARENT, FAMILY_LINE, "1")                  # Lincoln Elementary
    hotline.text(PARENT, FAMILY_LINE, "2")                  # the civil rights office
    hotline.text(PARENT, FAMILY_LINE, "A teacher asked my son where he was born, Tuesday at Lincoln.")
    sent = hotline.text(PARENT, FAMILY_LINE, "1")[0]
    assert "civil rights office has your report. Reference number: 1001" in sent
    [request] = hotline.services.requests.list("demo")
    assert request.type == "concern" and request.caller is None
    hotline.run_jobs()
    assert "family concern request 1001" in hotline.fake.messages_to(CIVIL_RIGHTS)[0]["body"]


def test_a_concern_by_voice_in_arabic_is_a_recording(hotline):
    call = hotline.call(PARENT, FAMILY_LINE)
    call = hotline.phone.press(call, "3")
    call = hotline.phone.press(call, "3")
    assert text_of("ar", "family.concern.intro", "voice") in call.turn.said
    assert text_of("ar", "family.concern.ask_school", "voice") in call.turn.said and call.turn.gather
    call = hotline.phone.press(call, "1")
    call = hotline.phone.press(call, "2")
    assert call.turn.record
    call = hotline.phone.record(call, "https://api.twilio.com/recordings/RE9")
    call = hotline.phone.press(call, "2")
    assert "1001" in call.turn.said
    request = hotline.services.requests.list("demo")[0]
    assert request.fields["description"] == "https://api.twilio.com/recordings/RE9" and request.caller == PARENT


def test_talk_to_a_person_during_office_hours(hotline):
    hotline.text(PARENT, FAMILY_LINE, "hello")
    reply = hotline.text(PARENT, FAMILY_LINE, "4")[0]
    assert "call the family liaison line: (303) 555-0115" in reply
    call = hotline.call(PARENT, FAMILY_LINE)
    call = hotline.phone.press(call, "2")
    call = hotline.phone.press(call, "4")
    assert call.turn.dial["numbers"] == [(LIAISON, "/voice/whisper?district=demo&lang=es")]
    whisper = hotline.phone.post("/voice/whisper?district=demo&lang=es", {"CallSid": "CA" + "9" * 32, "To": LIAISON})
    assert "The caller speaks Spanish" in whisper.text


@pytest.mark.parametrize("lang,digit", [("en", "1"), ("es", "2"), ("ar", "3")])
def test_after_hours_a_voicemail_becomes_a_request(make_hotline, lang, digit):
    hotline = make_hotline({"office_hours": {"family": ALWAYS_CLOSED}})
    call = hotline.call(PARENT, FAMILY_LINE)
    call = hotline.phone.press(call, digit)
    call = hotline.phone.press(call, "4")
    assert CATALOGS.render(lang, "family.person.after_hours", {}, "voice").text in call.turn.said
    call = hotline.phone.record(call, "https://api.twilio.com/recordings/RE5")
    assert "1001" in call.turn.said
    [request] = hotline.services.requests.list("demo")
    assert request.type == "voicemail" and request.fields["message"] == "https://api.twilio.com/recordings/RE5"
    hotline.run_jobs()
    assert "call-back request 1001" in hotline.fake.messages_to(LIAISON)[0]["body"]


def test_after_hours_by_text_in_somali(make_hotline):
    hotline = make_hotline({"office_hours": {"family": ALWAYS_CLOSED}})
    hotline.text(PARENT, FAMILY_LINE, "soomaali")
    reply = hotline.text(PARENT, FAMILY_LINE, "4")[0]
    assert text_of("so", "family.person.after_hours") in reply
    sent = hotline.text(PARENT, FAMILY_LINE, "Fadlan i soo wac, Faadumo, 720 555 0100")[0]
    assert text_of("so", "family.person.sent", reference="1001") in sent


# --- Requests for the office, and privacy -----------------------------------------------------

def test_requests_command_lists_and_exports(hotline, monkeypatch):
    update_by_text(hotline)
    hotline.text(PARENT, FAMILY_LINE, "7205550177")
    hotline.text(PARENT, FAMILY_LINE, "1")
    hotline.text(PARENT, FAMILY_LINE, "1")
    monkeypatch.setenv("REDIS_URL", hotline.settings.redis_url)
    monkeypatch.setenv("HOTLINE_DISTRICT", str(hotline.settings.district_path))
    runner = CliRunner()
    assert "1001" in runner.invoke(main, ["requests", "list"]).output
    rows = list(csv.DictReader(io.StringIO(runner.invoke(main, ["requests", "export"]).output)))
    assert rows[0]["reference"] == "1001" and rows[0]["student_name"] == "Ana Lopez"
    assert rows[0]["school"] == "Lincoln Elementary" and rows[0]["contact_phone"] == "+17205550177"
    exported = json.loads(runner.invoke(main, ["requests", "export", "--format", "json"]).output)
    assert exported[0]["type"] == "contact_update"


FORBIDDEN_IN_ASKS = ("immigration", "citizen", "status", "visa", "social security", "ssn", "papers", "green card",
                     "born", "country of", "documents")


def test_no_family_prompt_asks_about_status_papers_visas_or_ssn():
    """The English source of every question the family flows ask, in every form (text, SMS, voice),
    checked against the words that would make it an ask about status. (Statements that the district
    does NOT ask, such as family.welcome and the rights topics, are information, not questions.)"""
    flows = load_flows(flows_dir())
    english = CATALOGS.get("en")
    prompts = {step.prompt for flow_id in ("family_start", "language")
               for step in flows[flow_id].steps.values() if step.kind in ("ask", "menu")}
    assert {"family.update.ask_student", "family.concern.ask", "family.person.after_hours"} <= prompts
    for key in sorted(prompts):
        for form in english.entries[key].forms():
            found = [word for word in FORBIDDEN_IN_ASKS if word in form.lower()]
            assert not found, f"{key} asks about {found}: {form!r}"
        for code in CATALOGS.codes:
            assert key in CATALOGS.get(code).entries, f"messages/{code}.yaml lacks {key}"


def test_requests_hold_only_what_the_office_needs(hotline):
    update_by_text(hotline)
    hotline.text(PARENT, FAMILY_LINE, "7205550177")
    hotline.text(PARENT, FAMILY_LINE, "1")
    hotline.text(PARENT, FAMILY_LINE, "1")
    stored = hotline.services.redis.get("hl:request:demo:1001")
    assert set(json.loads(stored)["fields"]) == {"change", "student_name", "contact_name", "relationship",
                                                 "contact_phone"}


def test_a_spoken_menu_choice_in_the_callers_language(hotline):
    call = hotline.call(PARENT, FAMILY_LINE)
    call = hotline.phone.press(call, "2")                                   # Spanish
    label = text_of("es", "family.menu.update", "voice")
    call = hotline.phone.say(call, f"quiero {label.lower()}")
    assert text_of("es", "family.update.intro", "voice") in call.turn.said
    call = hotline.call("+17205550143", FAMILY_LINE)
    call = hotline.phone.press(call, "1")
    call = hotline.phone.say(call, "number three please 3")
    assert text_of("en", "family.concern.intro", "voice") in call.turn.said
