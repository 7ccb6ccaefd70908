"""`hotline sim`: a scripted drill against a running development hotline, the way the README's
walk-through goes: the front desk texts ICE, the legal office's alert arrives, the legal office
acknowledges, the front desk is told."""

from __future__ import annotations

from click.testing import CliRunner

from conftest import AUTH_TOKEN
from hotline.cli import main

DRILL = """\
# The README's walk-through, as a script.
/as front-desk
/line staff
ICE
/waitfor ICE AT SCHOOL - incident 101
/as legal
ACK 101
/waitfor has incident 101
/as parent
/line family
/call
2
/silence
"""


def test_a_scripted_drill_prints_the_transcript(make_live_hotline, tmp_path):
    live = make_live_hotline(dry_run=True, environment="development")
    script = tmp_path / "drill.txt"
    script.write_text(DRILL)
    result = CliRunner().invoke(main, ["sim", "--url", live.settings.public_url, "--token", AUTH_TOKEN,
                                       "--script", str(script)])
    transcript = result.output
    assert result.exit_code == 0, transcript
    assert "front-desk +13035550120 -> staff line +13035550100: ICE" in transcript
    assert "Incident 101: the hotline is alerting them too" in transcript
    assert ">> the hotline texted legal +13035550110" in transcript and "ICE AT SCHOOL - incident 101" in transcript
    assert "You have incident 101" in transcript
    assert ">> the hotline texted front-desk +13035550120" in transcript and "has incident 101" in transcript
    assert "(says, es-US)" in transcript, "the family call in Spanish"
    assert "(listening: type the digits to press" in transcript


def test_sim_without_a_token_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["sim", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and "hotline serve" in result.output
