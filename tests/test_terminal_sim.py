"""`hotline sim`: a scripted drill against a running development hotline, the way the README's
walk-through goes: the front desk texts ICE, the legal office's alert arrives, the legal office
acknowledges, the front desk is told."""

from __future__ import annotations

from click.testing import CliRunner

from conftest import AUTH_TOKEN, write_district
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


def riverside_folder(tmp_path):
    """A folder of two districts: the demo, and Riverside with its own numbers (612 instead of 303)."""
    folder = tmp_path / "districts"
    demo = write_district(folder, name="demo.yaml")
    text = demo.read_text().replace("+1303555", "+1612555").replace("id: demo", "id: riverside")
    text = text.replace("Demo Unified School District", "Riverside School District").replace("Maria Lopez", "Ana Ruiz")
    (folder / "riverside.yaml").write_text(text)
    return folder


def test_sim_names_the_phones_of_the_district_it_is_told(make_live_hotline, tmp_path, monkeypatch):
    folder = riverside_folder(tmp_path)
    live = make_live_hotline(dry_run=True, environment="development", district_path=folder)
    monkeypatch.setenv("HOTLINE_DISTRICT", str(folder))
    script = tmp_path / "drill.txt"
    script.write_text("/phones\nICE\n/waitfor ICE AT SCHOOL - incident 101\n/as legal\nACK 101\n"
                      "/waitfor has incident 101\n")
    result = CliRunner().invoke(main, ["sim", "--url", live.settings.public_url, "--token", AUTH_TOKEN,
                                       "--district", "riverside", "--script", str(script)])
    transcript = result.output
    assert result.exit_code == 0, transcript
    assert "Phones of riverside" in transcript and "ana-ruiz" in transcript and "lincoln-office" in transcript
    assert "front-desk +16125550120 -> staff line +16125550100: ICE" in transcript
    assert ">> the hotline texted legal +16125550110 (from staff line +16125550100)" in transcript
    assert "legal +16125550110 -> staff line +16125550100: ACK 101" in transcript
    assert ">> the hotline texted front-desk +16125550120" in transcript and "has incident 101" in transcript


def test_sim_refuses_a_district_the_folder_does_not_have(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_DISTRICT", str(riverside_folder(tmp_path)))
    result = CliRunner().invoke(main, ["sim", "--url", "http://127.0.0.1:9", "--token", "t", "--district", "oakdale"])
    assert result.exit_code == 2 and "no district 'oakdale'" in result.output and "demo, riverside" in result.output
