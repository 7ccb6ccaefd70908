"""A changed district file takes effect without a restart: `hotline reload` checks the files, then
every process reads them again, each validating again (a file gone bad keeps the old configuration
and says why); SIGHUP does the same for one process."""

from __future__ import annotations

import signal
import time

import requests
import yaml
from click.testing import CliRunner

from conftest import FRONT_DESK, LEGAL, STAFF_LINE
from hotline.cli import main

NEW_STAFF = "+13035550177"
NEW_LEGAL = "+13035550178"


def edit(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def reload_cli(monkeypatch, hotline):
    monkeypatch.setenv("REDIS_URL", hotline.settings.redis_url)
    monkeypatch.setenv("HOTLINE_DISTRICT", str(hotline.settings.district_path))
    return CliRunner().invoke(main, ["reload"])


def look_now(hotline):
    """The web process looks at the generation at most every 2 s; a test does not wait for that."""
    hotline.services.reloader.next_check = 0


def test_a_new_roster_member_is_known_after_hotline_reload(hotline, monkeypatch):
    assert NEW_STAFF not in hotline.services.directory.single.roster
    edit(hotline.settings.district_path,
         lambda d: d["roster"].update({NEW_STAFF: {"name": "Nia Brooks", "role": "front desk", "school": "lincoln"}}))
    result = reload_cli(monkeypatch, hotline)
    assert result.exit_code == 0, result.output
    assert "Reload requested (configuration generation 1): 1 district(s), 4 roster numbers" in result.output
    assert NEW_STAFF not in hotline.services.directory.single.roster, "nothing changes before the process looks"
    look_now(hotline)
    hotline.text(FRONT_DESK, STAFF_LINE, "hello")
    assert hotline.services.directory.single.roster[NEW_STAFF].name == "Nia Brooks"
    assert hotline.services.reloader.report() == {"generation": 1}


def test_a_process_that_started_without_redis_reads_the_files_again_once_a_reload_was_asked(hotline, monkeypatch):
    edit(hotline.settings.district_path,
         lambda d: d["roster"].update({NEW_STAFF: {"name": "Nia Brooks", "role": "front desk", "school": "lincoln"}}))
    assert reload_cli(monkeypatch, hotline).exit_code == 0
    # As if Redis had been unreachable when this process started (or its parent, for a web process
    # the master forks later): it cannot know which generation its configuration answers.
    hotline.services.reloader.generation = None
    look_now(hotline)
    hotline.text(FRONT_DESK, STAFF_LINE, "hello")
    assert hotline.services.directory.single.roster[NEW_STAFF].name == "Nia Brooks"
    assert hotline.services.reloader.report() == {"generation": 1}


def test_a_bad_file_is_refused_and_the_hotline_keeps_its_configuration(hotline, monkeypatch):
    path = hotline.settings.district_path
    edit(path, lambda d: d["contacts"]["legal_office"].update(number="555-LAWYER"))
    result = reload_cli(monkeypatch, hotline)
    assert result.exit_code == 1
    assert "Not reloaded" in result.output and "keeps its configuration" in result.output
    assert f"{path}: contacts.legal_office.number: '555-LAWYER' is not a valid phone number" in result.output
    look_now(hotline)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert hotline.fake.messages_to(LEGAL), "the legal office as it was"
    assert hotline.services.redis.get("hl:config:generation") is None, "the processes were not asked"


def test_a_file_that_goes_bad_after_the_check_is_refused_by_the_process(hotline, monkeypatch):
    path = hotline.settings.district_path
    good = path.read_text()
    edit(path, lambda d: d["contacts"]["legal_office"].update(number=NEW_LEGAL))
    assert reload_cli(monkeypatch, hotline).exit_code == 0
    path.write_text(good.replace("id: demo", "id: Not An Id"))
    look_now(hotline)
    hotline.text(FRONT_DESK, STAFF_LINE, "hello")
    report = hotline.services.reloader.report()
    assert report["generation"] == 1 and "district.id" in report["reload_refused"]
    assert hotline.services.directory.single.contacts["legal_office"].number == LEGAL
    health = hotline.app.test_client().get("/healthz").get_json()
    assert health["config"]["reload_refused"] == "1 problem(s): run hotline check", "the public page says no more"


def test_reload_reaches_a_worker_in_its_own_process(make_live_hotline, monkeypatch):
    live = make_live_hotline()
    edit(live.settings.district_path, lambda d: d["contacts"]["legal_office"].update(number=NEW_LEGAL))
    monkeypatch.setenv("REDIS_URL", live.settings.redis_url)
    monkeypatch.setenv("HOTLINE_DISTRICT", str(live.settings.district_path))
    assert CliRunner().invoke(main, ["reload"]).exit_code == 0
    time.sleep(2.1)                   # both processes look at the generation every 2 s at most
    live.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert live.fake.wait_for(lambda: live.fake.messages_to(NEW_LEGAL), timeout=20), live.worker_output()[-2000:]
    assert not live.fake.messages_to(LEGAL)


def test_sighup_makes_a_worker_read_the_files_again(make_live_hotline):
    live = make_live_hotline()
    wait_for_worker(live)                               # its SIGHUP handler is installed by then
    edit(live.settings.district_path, lambda d: d["contacts"]["legal_office"].update(number=NEW_LEGAL))
    live.services.reload()                              # the web side, as SIGHUP to `hotline serve` does
    live.workers[0].send_signal(signal.SIGHUP)
    live.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert live.fake.wait_for(lambda: live.fake.messages_to(NEW_LEGAL), timeout=20), live.worker_output()[-2000:]
    assert live.workers[0].poll() is None, "SIGHUP does not stop the worker"


def wait_for_worker(live, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if requests.get(live.settings.public_url + "/healthz", timeout=5).status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError("the worker never reported in")
