"""Golden transcripts (tests/transcripts/*.yaml): inputs in, expected replies and actions out.

Each transcript walks a line by text or by phone, through the real app (signed webhooks, Redis,
an RQ worker, the local Twilio-compatible server). Expected replies are written as catalog keys
(rendered in the transcript's language, for its channel, so a transcript checks the language as
well as the flow) and as literal fragments; expected actions as the texts and calls the hotline
sends, and the incidents and requests it records.

Format (see tests/transcripts/README.md):
  name, channel (sms|voice), lang, from, line (staff|family), district (changes), recordings (languages
  given a complete set of tiny test recordings), steps: a list of
  {send|call|press|say|record|silence|dial_result|pick_up: value, as: who sends this text,
   expect: [keys], contains: [text],
   absent: [text], lang: switch language for later expectations, voice: expected Say voice,
   vars: {placeholder values}, jobs: true, sent: [{to, contains}], calls: [{to}],
   incident: {id, field: value}, request: {reference, field: value}}
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from conftest import FAMILY_LINE, STAFF_LINE
from hotline.content import flows_dir, messages_dir
from hotline.engine import load_flows
from hotline.messages import load_catalogs
from hotline.recordings import missing_for_family_line
from hotline.testing.audio import write_recordings
from hotline.variables import base_variables
from hotline.render.values import for_channel

FOLDER = Path(__file__).parent / "transcripts"
FILES = sorted(FOLDER.glob("*.yaml"))
LINES = {"staff": STAFF_LINE, "family": FAMILY_LINE}
NUMBERS = {"legal": "+13035550110", "safety": "+13035550111", "backup": "+13035550112", "civil_rights": "+13035550113",
           "liaison": "+13035550115", "interpreter": "+13035550116", "lincoln_office": "+13035550130",
           "front_desk": "+13035550120", "principal": "+13035550121", "crisis": "+13035550118",
           "designee": "+13035550114", "stranger": "+13035550199"}


def number(value: str) -> str:
    return NUMBERS.get(value, value)


class Walk:
    def __init__(self, hotline, script: dict):
        self.hotline = hotline
        self.script = script
        self.channel = script.get("channel", "sms")
        self.lang = script.get("lang", "en")
        self.sender = number(script.get("from", "+17205550142"))
        self.line = LINES[script.get("line", "family")]
        self.call = None
        district, line = hotline.services.directory.by_number(self.line)
        self.catalogs = hotline.services.content(district).catalogs
        self.base = base_variables(district, line)

    def expected(self, key: str, variables: dict) -> str:
        values = for_channel({**self.base, **variables}, self.channel)
        return self.catalogs.render(self.lang, key, values, self.channel).text

    def act(self, step: dict) -> str:
        phone = self.hotline.phone
        if "send" in step:
            media = tuple(step.get("media", ()))
            sender = number(step.get("as", self.sender))
            return "\n\n".join(self.hotline.text(sender, self.line, str(step["send"]), media=media))
        if "pick_up" in step:
            # The person the call rings picks up, hears the screening whisper and presses a key (or not).
            digits = step["pick_up"].get("digits") if isinstance(step["pick_up"], dict) else None
            return phone.pick_up(self.call, digits).said
        if "call" in step:
            self.call = self.hotline.call(self.sender, self.line)
        elif "press" in step:
            self.call = phone.press(self.call, str(step["press"]))
        elif "say" in step:
            self.call = phone.say(self.call, str(step["say"]))
        elif "record" in step:
            self.call = phone.record(self.call, step["record"])
        elif "silence" in step:
            self.call = phone.silence(self.call)
        elif "dial_result" in step:
            self.call = phone.dial_result(self.call, step["dial_result"])
        else:
            return ""
        return self.call.turn.said

    def check(self, number_: int, step: dict) -> None:
        where = f"{self.script['name']}, step {number_ + 1} ({ {k: v for k, v in step.items() if k in ('send', 'call', 'press', 'say', 'record', 'silence', 'dial_result', 'pick_up')} })"
        self.lang = step.get("lang", self.lang)
        heard = self.act(step)
        for key in step.get("expect", []):
            text = self.expected(key, step.get("vars", {}))
            assert text in heard, f"{where}: expected {key} in {self.lang}:\n  {text!r}\ngot:\n  {heard!r}"
        for fragment in step.get("contains", []):
            assert fragment in heard, f"{where}: expected {fragment!r} in {heard!r}"
        for fragment in step.get("absent", []):
            assert fragment not in heard, f"{where}: did not expect {fragment!r} in {heard!r}"
        if "voice" in step:
            voices = {s.voice for s in self.call.turn.spoken if s.kind == "say"}
            assert voices == {step["voice"]}, f"{where}: voices {voices}"
        if "plays" in step:
            plays = [s.text for s in self.call.turn.spoken if s.kind == "play"]
            assert plays == step["plays"], f"{where}: plays {plays}"
        for fragment in step.get("plays_include", []):
            plays = [s.text for s in self.call.turn.spoken if s.kind == "play"]
            joined = " ".join(plays)
            assert fragment in joined, f"{where}: expected recordings {fragment!r} in {plays}"
        if step.get("only_recordings"):
            said = [s.text for s in self.call.turn.spoken if s.kind == "say"]
            assert not said, f"{where}: everything should be played from recordings, but said {said}"
        if "spoken_before_record" in step:
            turn = self.call.turn
            assert turn.record is not None, f"{where}: no <Record>"
            assert turn.spoken and all(s.text for s in turn.spoken), f"{where}: a bare beep"
            assert step["spoken_before_record"] in turn.said, f"{where}: {turn.said!r}"
        if "dials" in step:
            assert self.call.turn.dial and self.call.turn.dial["numbers"][0][0] == number(step["dials"]), \
                f"{where}: dial {self.call.turn.dial}"
        if step.get("hangup"):
            assert self.call.turn.hangup, f"{where}: the call should end"
        if step.get("jobs"):
            self.hotline.run_jobs()
        fake = self.hotline.fake
        for sent in step.get("sent", []):
            bodies = [m["body"] for m in fake.messages_to(number(sent["to"]))]
            assert any(sent.get("contains", "") in body for body in bodies), f"{where}: to {sent['to']}: {bodies}"
        for call in step.get("calls", []):
            assert fake.calls_to(number(call["to"])), f"{where}: no call to {call['to']}"
        if "incident" in step:
            expected = dict(step["incident"])
            record = self.hotline.services.incidents.get("demo", str(expected.pop("id", "101")))
            for field, value in expected.items():
                actual = record.details.get(field) if field not in record.__dict__ else getattr(record, field)
                assert actual == value, f"{where}: incident {field} = {actual!r}, expected {value!r}"
        if "request" in step:
            expected = dict(step["request"])
            request = self.hotline.services.requests.get("demo", str(expected.pop("reference", "1001")))
            assert request is not None, f"{where}: no request"
            for field, value in expected.items():
                actual = request.fields.get(field) if field not in request.__dict__ else getattr(request, field)
                assert actual == value, f"{where}: request {field} = {actual!r}, expected {value!r}"


def with_recordings(folder: Path, languages: list[str], district: dict | None) -> dict:
    """A copy of the catalogs with a complete set of tiny test recordings for ``languages`` (what
    `hotline check` says a complete voice line needs), and the district pointed at it."""
    target = folder / "messages"
    shutil.copytree(messages_dir(), target)
    catalogs = load_catalogs(messages_dir())
    flows = load_flows(flows_dir())
    for lang in languages:
        write_recordings(target / "audio" / lang,
                         missing_for_family_line(catalogs, flows, lang, ["Lincoln Elementary", "Roosevelt High"]))
    return {**(district or {}), "content": {"messages": str(target)}}


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript(make_hotline, tmp_path, path):
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    district = script.get("district")
    if script.get("recordings"):
        district = with_recordings(tmp_path / "content", script["recordings"], district)
    walk = Walk(make_hotline(district), script)
    for index, step in enumerate(script["steps"]):
        walk.check(index, step)


def test_transcripts_cover_both_channels_in_several_languages():
    scripts = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in FILES]
    family = [(s.get("channel", "sms"), s.get("lang", "en")) for s in scripts if s.get("line", "family") == "family"]
    for lang in ("en", "es", "ar", "so"):
        assert ("sms", lang) in family and ("voice", lang) in family, f"family line in {lang} by text and by phone"
