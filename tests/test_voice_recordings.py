"""Composable recordings (issue 12): a message with values is played as recorded pieces around the
values; `hotline check` names every recording a language still lacks."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from conftest import FAMILY_LINE, PARENT, write_district
from hotline.cli import main
from hotline.content import flows_dir, messages_dir
from hotline.engine import load_flows
from hotline.messages import load_catalogs
from hotline.recordings import Composer, MessageRef, missing_for_family_line, pieces_of, slug
from hotline.render.values import Phone
from hotline.testing.audio import SILENT_FRAME, write_recordings

SCHOOLS = ["Lincoln Elementary", "Roosevelt High"]


def catalogs_with(tmp_path, lang: str, recordings: list[str]):
    folder = tmp_path / "messages"
    shutil.copytree(messages_dir(), folder)
    write_recordings(folder / "audio" / lang, recordings)
    return load_catalogs(folder), folder


def test_pieces_follow_the_languages_own_word_order():
    assert pieces_of("{label}: riix {digit}.", "format.voice_option") == [None, "format.voice_option.2", None]
    assert pieces_of("For {language}, press {digit}.", "x") == ["x.1", "x.2", None]
    assert pieces_of("Welcome to {district}.", "family.welcome") == ["family.welcome"], "district values are recorded"
    assert slug("Lincoln Elementary") == "lincoln-elementary" and slug("École Émile-Zola") == "ecole-emile-zola"


def test_a_value_is_played_digit_by_digit_and_a_label_by_its_recording(tmp_path):
    catalogs, _ = catalogs_with(tmp_path, "so", ["format.voice_option.2", "family.menu.rights", "digits/1",
                                                 "family.update.sent.1", "family.update.sent.2", "digits/0",
                                                 "names/lincoln-elementary"])
    composer = Composer(catalogs, "so")
    assert composer.compose("format.voice_option", {"label": MessageRef("family.menu.rights"), "digit": "1"}) == \
        ["family.menu.rights", "format.voice_option.2", "digits/1"]
    assert composer.compose("family.update.sent", {"reference": "1001"}) == \
        ["family.update.sent.1", "digits/1", "digits/0", "digits/0", "digits/1", "family.update.sent.2"]
    assert composer.compose("format.voice_option", {"label": "Lincoln Elementary", "digit": "1"})[0] == \
        "names/lincoln-elementary"
    assert composer.compose("format.voice_option", {"label": MessageRef("family.menu.update"), "digit": "1"}) is None, \
        "a missing label recording means the message cannot be played"
    assert composer.compose("family.update.confirm_phone", {"contact_phone": Phone("+17205550177")}) is None


def test_hotline_check_lists_exactly_the_missing_recordings(tmp_path, monkeypatch):
    catalogs = load_catalogs(messages_dir())
    needed = missing_for_family_line(catalogs, load_flows(flows_dir()), "so", SCHOOLS)
    assert {"family.welcome", "format.voice_option.2", "digits/7", "names/roosevelt-high",
            "family.update.sent.1", "family.update.sent.2", "voice.leave_message"} <= set(needed)
    assert "staff.ice.first_steps" not in needed, "only what the family line says"
    _, folder = catalogs_with(tmp_path, "so", [n for n in needed if n != "digits/7"])
    district = write_district(tmp_path / "d", {"content": {"messages": str(folder)}})
    monkeypatch.setenv("HOTLINE_DISTRICT", str(district))
    output = CliRunner().invoke(main, ["check"]).output
    assert "recordings: so lacks 1 for a complete voice line" in output
    assert "    digits/7.mp3" in output
    assert "recordings: hmn lacks" in output


def test_a_complete_set_turns_the_interpreter_path_into_recordings(tmp_path, make_hotline):
    catalogs = load_catalogs(messages_dir())
    needed = missing_for_family_line(catalogs, load_flows(flows_dir()), "so", SCHOOLS)
    _, folder = catalogs_with(tmp_path, "so", needed[1:])        # one short: the interpreter still
    hotline = make_hotline({"content": {"messages": str(folder)}})
    call = hotline.phone.press(hotline.call(PARENT, FAMILY_LINE), "5")
    assert call.turn.dial, "an incomplete set keeps the interpreter path"
    _, complete = catalogs_with(tmp_path / "complete", "so", needed)   # (catalogs are cached per folder)
    hotline = make_hotline({"content": {"messages": str(complete)}})
    call = hotline.phone.press(hotline.call(PARENT, FAMILY_LINE), "5")
    assert not call.turn.dial and call.turn.gather
    assert not [s for s in call.turn.spoken if s.kind == "say"]
    nested = hotline.app.test_client().get("/audio/demo/so/digits/5.mp3")
    assert nested.status_code == 200 and nested.data == SILENT_FRAME
    assert hotline.app.test_client().get("/audio/demo/so/../so.yaml").status_code == 404
