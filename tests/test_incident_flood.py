"""Issue 13: a flood of junk incidents cannot hide a real one from the dashboard or the export."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from conftest import FRONT_DESK, ROOSEVELT_DESK, STAFF_LINE
from hotline.cli import main
from test_admin import PASSWORD_HASH, page, sign_in

JUNK = 600


def flood(hotline) -> str:
    """A real incident from Lincoln's front desk, then 600 newer junk ones from Roosevelt's."""
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    real = hotline.services.incidents.for_reporter("demo", FRONT_DESK)
    for _ in range(JUNK):
        hotline.services.incidents.create(
            district_id="demo", type="ice", drill=False, line=STAFF_LINE, reporter=ROOSEVELT_DESK,
            reporter_name="Sam Rivera", reporter_role="front desk", school="roosevelt", verification="roster",
            policy={})
    return real.id


def ids_on(text: str) -> set[str]:
    return set(re.findall(r'class="id" href="[^"]+">([^<]+)</a>', text))


def test_a_real_incident_is_found_on_the_first_page_of_open(make_hotline):
    hotline = make_hotline(admin_password_hash=PASSWORD_HASH)
    real = flood(hotline)
    client = hotline.app.test_client()
    assert sign_in(client).status_code == 302

    first = page(client, "/admin/?status=open")
    assert "Page 1 of 13 (601 incidents)" in first, "every incident is counted, none capped"
    assert f'Open <span class="count">{JUNK + 1}</span>' in re.sub(r"\s+", " ", first)

    by_school = page(client, "/admin/?status=open&school=lincoln")
    assert ids_on(by_school) == {real}
    by_number = page(client, "/admin/?status=open&number=0120")
    assert ids_on(by_number) == {real}
    today = hotline.services.directory.single.now().date().isoformat()    # the district's day
    by_date_and_school = page(client, f"/admin/?status=open&school=lincoln&since={today}&until={today}")
    assert ids_on(by_date_and_school) == {real}
    assert ids_on(page(client, "/admin/?status=open&school=lincoln&until=2000-01-01")) == set()

    # Without a filter it is still reachable: its page is there.
    last = page(client, "/admin/?status=open&page=13")
    assert real in ids_on(last)

    # And the dashboard's CSV export holds it too (it used to read only the newest 500).
    exported = client.get("/admin/incidents.csv").get_data(as_text=True).splitlines()
    assert len(exported) == 1 + JUNK + 1 and any(line.split(",")[1] == real for line in exported[1:])


def test_the_export_holds_every_incident_and_searches(make_hotline, monkeypatch):
    hotline = make_hotline()
    real = flood(hotline)
    monkeypatch.setenv("REDIS_URL", hotline.settings.redis_url)
    monkeypatch.setenv("HOTLINE_DISTRICT", str(hotline.settings.district_path))
    runner = CliRunner()
    exported = json.loads(runner.invoke(main, ["incidents", "export"]).output)
    assert len(exported) == JUNK + 1 and real in {row["id"] for row in exported}
    found = json.loads(runner.invoke(main, ["incidents", "export", "--school", "lincoln"]).output)
    assert [row["id"] for row in found] == [real]
    found = json.loads(runner.invoke(main, ["incidents", "export", "--number", "555-0120"]).output)
    assert [row["id"] for row in found] == [real]
    bad = runner.invoke(main, ["incidents", "export", "--since", "yesterday"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
