"""Record by phone (issue 12): the district's bilingual staff call the recording line, give the PIN,
pick the language, hear each prompt, record, listen back, keep or redo. A kept recording is fetched
from the Twilio-compatible server with the account's credentials into the district's storage and
served by the hotline; the language's missing list shrinks by one."""

from __future__ import annotations

from conftest import ACCOUNT_SID, FAMILY_LINE, PARENT, write_district
from hotline.content import flows_dir, messages_dir
from hotline.district import read_directory
from hotline.engine import load_flows
from hotline.messages import load_catalogs
from hotline.recordings import missing_for_family_line
from hotline.redis_server import EmbeddedRedis
from hotline.recording_store import stored
from hotline.testing.audio import SILENT_FRAME

RECORDING_LINE = "+13035550102"
RECORDER = "+13035550122"
SCHOOLS = ["Lincoln Elementary", "Roosevelt High"]


def missing_somali(folder=None) -> list[str]:
    return missing_for_family_line(load_catalogs(messages_dir()), load_flows(flows_dir()), "so", SCHOOLS,
                                   stored(folder, "so") if folder else frozenset())


def recording_hotline(make_hotline, tmp_path, **district):
    return make_hotline({"recording_line": {"number": RECORDING_LINE, "pin": "2468", **district}},
                        var_dir=tmp_path / "var")


def test_a_whole_recording_session_records_keeps_and_serves_a_prompt(make_hotline, tmp_path):
    hotline = recording_hotline(make_hotline, tmp_path)
    phone, fake = hotline.phone, hotline.fake
    call = hotline.call(RECORDER, RECORDING_LINE)
    assert "Enter your PIN" in call.turn.said and call.turn.gather

    call = phone.press(call, "1111")
    assert "That PIN is not right" in call.turn.said and call.turn.gather
    call = phone.press(call, "2468")
    assert "For Somali, press 1." in call.turn.said and "For Rohingya, press 5." in call.turn.said
    assert "Spanish" not in call.turn.said, "languages with a Twilio voice need no recordings"

    before = missing_somali()
    call = phone.press(call, "1")
    first = before[0]
    assert call.turn.record and f"{len(before)} to go." in call.turn.said
    prompt = call.turn.said

    # A first take, listened to and redone: it is never fetched.
    take1 = fake.add_recording(b"first take, not kept", call_sid=call.sid)
    call = phone.record(call, take1["url"], sid=take1["sid"])
    assert [s.text for s in call.turn.spoken if s.kind == "play"] == [take1["url"]]
    assert "To keep it, press 1. To record it again, press 2." in call.turn.said
    call = phone.press(call, "2")
    assert call.turn.said == prompt and call.turn.record

    take2 = fake.add_recording(SILENT_FRAME, call_sid=call.sid)
    call = phone.record(call, take2["url"], sid=take2["sid"])
    call = phone.press(call, "1")
    assert call.turn.said.startswith("Saved.") and call.turn.record, "then the next prompt"
    assert f"{len(before) - 1} to go." in call.turn.said

    saved = tmp_path / "var" / "recordings" / "demo" / "so" / f"{first}.mp3"
    assert saved.read_bytes() == SILENT_FRAME
    fetched = [r for r in fake.requests if "/Recordings/" in r["path"]]
    assert [r["path"] for r in fetched] == [f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{take2['sid']}.mp3"]
    assert fetched[0]["status"] == 200, "fetched with the account's credentials"

    served = hotline.app.test_client().get(f"/audio/demo/so/{first}.mp3")
    assert served.status_code == 200 and served.data == SILENT_FRAME and served.mimetype == "audio/mpeg"
    assert missing_somali(tmp_path / "var" / "recordings" / "demo") == before[1:]

    # Skip one, then stop: nothing else is kept.
    take3 = fake.add_recording(SILENT_FRAME)
    call = phone.record(call, take3["url"], sid=take3["sid"])
    call = phone.press(call, "3")
    assert f"{len(before) - 2} to go." in call.turn.said
    take4 = fake.add_recording(SILENT_FRAME)
    call = phone.record(call, take4["url"], sid=take4["sid"])
    call = phone.press(call, "9")
    assert "Goodbye" in call.turn.said and call.turn.hangup
    assert len(stored(tmp_path / "var" / "recordings" / "demo", "so")) == 1


def test_recordings_made_by_phone_complete_a_language(make_hotline, tmp_path):
    """Everything recorded by phone but one file: interpreter; the last one kept: Somali by voice."""
    storage = tmp_path / "storage"
    needed = missing_somali()
    for name in needed[1:]:
        path = storage / "so" / f"{name}.mp3"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(SILENT_FRAME)
    hotline = recording_hotline(make_hotline, tmp_path, storage=str(storage))
    call = hotline.phone.press(hotline.call(PARENT, FAMILY_LINE), "5")
    assert call.turn.dial, "incomplete: the interpreter"

    phone, fake = hotline.phone, hotline.fake
    call = phone.press(phone.press(hotline.call(RECORDER, RECORDING_LINE), "2468"), "1")
    assert "1 to go." in call.turn.said
    take = fake.add_recording(SILENT_FRAME)
    call = phone.press(phone.record(call, take["url"], sid=take["sid"]), "1")
    assert "Every recording this language needs is in place" in call.turn.said and call.turn.hangup

    call = hotline.phone.press(hotline.call(PARENT, FAMILY_LINE), "5")
    assert not call.turn.dial and call.turn.gather
    assert call.turn.spoken and not [s for s in call.turn.spoken if s.kind == "say"], "Somali, by recordings"


def test_a_recording_that_cannot_be_fetched_is_recorded_again(make_hotline, tmp_path):
    hotline = recording_hotline(make_hotline, tmp_path)
    phone = hotline.phone
    call = phone.press(phone.press(hotline.call(RECORDER, RECORDING_LINE), "2468"), "1")
    call = phone.record(call, "http://127.0.0.1:9/nowhere", sid="RE" + "0" * 32)     # Twilio does not have it
    call = phone.press(call, "1")
    assert "could not be saved" in call.turn.said
    assert not stored(tmp_path / "var" / "recordings" / "demo", "so")


def test_three_wrong_pins_end_the_call(make_hotline, tmp_path):
    hotline = recording_hotline(make_hotline, tmp_path)
    call = hotline.call(RECORDER, RECORDING_LINE)
    for _ in range(3):
        call = hotline.phone.press(call, "0000")
    assert call.turn.hangup and "not right" in call.turn.said


def test_a_recording_line_needs_a_pin_of_digits(tmp_path):
    path = write_district(tmp_path, {"recording_line": {"number": RECORDING_LINE, "pin": "abc"}})
    _, problems = read_directory(path, load_catalogs(messages_dir()).codes)
    assert any(p.key == "recording_line.pin" and "4 to 8 digits" in p.message for p in problems), problems


def test_with_redis_down_the_recording_line_still_answers_with_twiml(make_hotline, tmp_path):
    """/recording-line is a Twilio voice webhook: with Redis gone it speaks and hangs up, never a 500."""
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    hotline = make_hotline({"recording_line": {"number": RECORDING_LINE, "pin": "2468"}}, redis_url=url,
                           var_dir=tmp_path / "var")
    server.kill()
    answer = hotline.phone.post("/recording-line", {"CallSid": "CA" + "7" * 32, "From": RECORDER,
                                                     "To": RECORDING_LINE, "CallStatus": "ringing"})
    assert answer.status == 200, answer.text
    assert "<Response>" in answer.text and "<Say" in answer.text, answer.text
