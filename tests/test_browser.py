"""The dashboard and the phone simulator in a real browser: Debian's chromium driven by Playwright,
against the whole hotline over HTTP (a worker in its own process, the local Twilio stand-in).

Never downloads a browser: it uses /usr/bin/chromium (apt-get install chromium). Without it the
tests are skipped, except when HOTLINE_REQUIRE_BROWSER=1 (CI), where a missing browser fails.
Screenshots of the main pages are taken on every run, into the test's temporary folder; with
HOTLINE_SCREENSHOTS=docs/screenshots they refresh the README's pictures instead (so a plain test
run never changes the checkout).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from conftest import FAMILY_LINE, FRONT_DESK, LEGAL, PARENT, ROOSEVELT_DESK, STAFF_LINE

pytestmark = pytest.mark.browser

# Debian's chromium; HOTLINE_CHROMIUM points elsewhere (never a downloaded browser).
CHROMIUM = Path(os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(os.environ["HOTLINE_SCREENSHOTS"]) if os.environ.get("HOTLINE_SCREENSHOTS") else None
PHONE = {"width": 430, "height": 900}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "correct horse"
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
TIMEOUT_MS = 10_000


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright; no browser download needed)"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _browser_missing()
    if missing:
        if os.environ.get("HOTLINE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"HOTLINE_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def phone_page(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    folder = SCREENSHOTS or tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(page, name: str, folder: Path) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000, f"{name}.png is a picture of something"


# The simulator runs first: it has no worker process, and a worker process of an earlier test that
# outlived its test could take this test's jobs.
def test_the_phone_simulator_texts_ice_and_the_legal_office_acknowledges(make_live_hotline, browser, screenshots):
    # Development settings (the simulator exists) with no Twilio account (the dry-run outbox); the
    # queued jobs run in this process, so no worker is started.
    live = make_live_hotline(worker=False, environment="development", twilio_account_sid=None)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(live.settings.public_url + "/sim/")
        desk, legal = page.locator('[data-phone="desk"]'), page.locator('[data-phone="legal"]')
        desk.locator(".compose .body").fill("ICE")
        desk.locator(".compose button").click()
        desk.locator(".screen li.in", has_text="Incident 101").wait_for()

        live.run_jobs()                  # the escalation: texts to the outbox, which the page polls
        alert = legal.locator(".screen li.push", has_text="Reply ACK 101")
        alert.wait_for()
        assert legal.locator("select.line").input_value() == STAFF_LINE
        legal.locator(".compose .body").fill("ACK 101")
        legal.locator(".compose button").click()
        legal.locator(".screen li.in", has_text="You have incident 101").wait_for()
        live.run_jobs()
        desk.locator(".screen li.push", has_text="has incident 101").wait_for()

        parent = page.locator('[data-phone="parent"]')
        parent.locator("button.call").click()
        parent.locator(".screen li.voice").first.wait_for()
        assert re.search(r"says \(\w\w", parent.locator(".screen li.voice .meta").first.inner_text())
        shoot(page, "sim-desktop", screenshots)
        page.set_viewport_size(PHONE)
        shoot(page, "sim-phone", screenshots)
    finally:
        context.close()


def test_the_legal_office_signs_in_and_acknowledges_an_incident(make_live_hotline, browser, phone_page, screenshots):
    live = make_live_hotline(admin_password_hash=PASSWORD_HASH)
    base = live.settings.public_url
    page = phone_page
    assert any("Incident 101" in reply for reply in live.text(FRONT_DESK, STAFF_LINE, "ICE"))
    live.text(FRONT_DESK, STAFF_LINE, "Agent R. Smith, badge 4471")
    live.text(FRONT_DESK, STAFF_LINE, "1")
    live.text(ROOSEVELT_DESK, STAFF_LINE, "RECORDS")                   # incident 102, for the list
    requests = live.services.requests
    requests.create(district_id="demo", type="contact_update", line=FAMILY_LINE, language="es", caller=PARENT,
                    school="lincoln", fields={"student_name": "Ana P.", "contact_name": "Rosa P.",
                                              "relationship": "aunt", "contact_phone": "+17205550177"})
    requests.create(district_id="demo", type="voicemail", line=FAMILY_LINE, language="ar", caller=PARENT,
                    school=None, fields={"message": "https://api.twilio.com/2010-04-01/Recordings/RE0001"})

    # Nothing without signing in.
    for path in ("/admin/", "/admin/incidents/demo/101", "/admin/requests"):
        page.goto(base + path)
        assert page.url.startswith(base + "/admin/login"), path
    assert page.request.get(base + "/admin/requests.csv").status == 401

    page.fill("#password", "wrong horse")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "That password is not right."
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/admin/requests")       # back where the sign-in was asked for
    assert page.locator("li.request").count() == 2
    assert page.get_attribute("li.request a", "href").endswith("/Recordings/RE0001")
    shoot(page, "requests-phone", screenshots)

    page.click("nav >> text=Incidents")
    row = page.locator("tr", has=page.locator("a.id", has_text="101"))
    assert "Lincoln Elementary" in row.inner_text() and "ICE" in row.inner_text()
    live.fake.wait_for(lambda: live.fake.messages_to(LEGAL), timeout=10)
    shoot(page, "incidents-phone", screenshots)

    page.click("a.id >> text=101")
    page.wait_for_url(base + "/admin/incidents/demo/101")
    assert "Agent R. Smith, badge 4471" in page.inner_text("main")
    page.reload()                        # the worker has texted the contacts by now
    assert "Office of Legal Counsel" in page.locator("section", has_text="Escalations").inner_text()
    shoot(page, "incident-phone", screenshots)

    page.click("text=Acknowledge: the legal office has it")
    assert "You have incident 101" in page.locator(".flash").inner_text()
    assert live.fake.wait_for(lambda: any("has incident 101" in m["body"] for m in live.fake.messages_to(FRONT_DESK)),
                              timeout=15), "the reporter is told, as for an ACK by text"
    assert live.services.incidents.get("demo", "101").status == "taken"
    page.reload()
    assert "taken by Office of Legal Counsel (dashboard)" in page.inner_text(".timeline")

    page.click("nav >> text=Languages")
    assert page.locator("table.cards code", has_text="en").count() >= 1
    shoot(page, "languages-phone", screenshots)
    page.click("nav >> text=Health")
    assert "Jobs waiting" in page.inner_text("main")
    shoot(page, "health-phone", screenshots)

    page.set_viewport_size(DESKTOP)
    page.goto(base + "/admin/incidents/demo/101")
    shoot(page, "incident-desktop", screenshots)
    page.goto(base + "/admin/?status=all")
    shoot(page, "incidents-desktop", screenshots)

    page.click("text=Sign out")
    page.goto(base + "/admin/health")
    assert page.url.startswith(base + "/admin/login")


def test_a_legal_officer_and_a_school_office_each_see_what_they_may(make_live_hotline, browser, phone_page,
                                                                    screenshots):
    live = make_live_hotline()
    base = live.settings.public_url
    accounts = live.services.accounts
    accounts.create(name="Lena Legal", email="lena@demo.org", role="legal", districts=["demo"],
                    password_hash=PASSWORD_HASH)
    accounts.create(name="Olga Office", email="olga@demo.org", role="school_office", districts=["demo"],
                    schools=["lincoln"], password_hash=PASSWORD_HASH)
    assert any("Incident 101" in reply for reply in live.text(FRONT_DESK, STAFF_LINE, "ICE"))
    requests = live.services.requests
    lincoln = requests.create(district_id="demo", type="contact_update", line=FAMILY_LINE, language="es",
                              caller=PARENT, school="lincoln",
                              fields={"student_name": "Ana P.", "contact_name": "Rosa P."})
    requests.create(district_id="demo", type="contact_update", line=FAMILY_LINE, language="en", caller=PARENT,
                    school="roosevelt", fields={"student_name": "Ben Q.", "contact_name": "Q."})
    page = phone_page

    def sign_in_as(email: str) -> None:
        page.goto(base + "/admin/login")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")

    # The legal office: incidents (and takes one, by name), and every school's requests.
    sign_in_as("lena@demo.org")
    page.wait_for_url(base + "/admin/")
    page.click("a.id >> text=101")
    page.wait_for_url(base + "/admin/incidents/demo/101")
    page.click("text=Acknowledge: I have it")
    assert "You have incident 101" in page.locator(".flash").inner_text()
    page.reload()
    assert "taken by Lena Legal for Office of Legal Counsel (dashboard)" in page.inner_text(".timeline")
    page.click("nav >> text=Requests")
    assert page.locator("li.request").count() == 2
    assert page.locator("nav >> text=Audit log").count() == 0, "the audit log is the auditors'"
    page.click("nav >> text=Sign out")

    # A school office: only its school's requests, no incidents.
    sign_in_as("olga@demo.org")
    page.wait_for_url(base + "/admin/requests")
    assert page.locator("li.request").count() == 1
    assert "Ana P." in page.inner_text("main") and "Ben Q." not in page.inner_text("main")
    assert page.locator("nav >> text=Incidents").count() == 0
    assert page.locator("text=Export CSV").count() == 0
    shoot(page, "requests-school-office-phone", screenshots)
    page.click("text=Mark processed")
    assert f"Request {lincoln.reference} is marked processed." in page.locator(".flash").inner_text()
    assert live.services.requests.get("demo", lincoln.reference).processed_by == "Olga Office"
    response = page.goto(base + "/admin/incidents/demo/101")
    assert response.status == 403 and "Not for your role" in page.inner_text("main")
    page.click("nav >> text=Olga Office")
    assert "School office" in page.inner_text("main") and "This browser" in page.inner_text("main")
