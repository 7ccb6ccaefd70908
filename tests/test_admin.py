"""The dashboard at /admin: sign-in (password, rate limit, idle timeout, CSRF), nothing reachable
without it, and what the legal office does there (acknowledge, close, process requests, export)."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest
from werkzeug.security import generate_password_hash

from conftest import FRONT_DESK, LEGAL, PARENT, ROOSEVELT_DESK, SAFETY, STAFF_LINE
from hotline.accounts import throttle
from hotline.admin import auth

PASSWORD = "correct horse"
# A cheap hash keeps the tests fast; the dashboard checks any werkzeug hash the same way.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def form_token(client, path: str = "/admin/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, password: str = PASSWORD, **extra):
    return client.post("/admin/login", data={"password": password, "csrf_token": form_token(client), **extra})


def post(client, path: str, **data):
    """A dashboard form post, with the token the page would carry."""
    return client.post(path, data={"csrf_token": form_token(client, "/admin/drills"), **data})


@pytest.fixture
def hotline(make_hotline):
    return make_hotline(admin_password_hash=PASSWORD_HASH)


@pytest.fixture
def client(hotline):
    client = hotline.app.test_client()
    assert sign_in(client).status_code == 302
    return client


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.headers.get("Location"))
    return response.get_data(as_text=True)


# The ways in (the SSO pair answers 404 when SSO is not set up), and the downloads (401, never a page).
SIGN_IN = {"admin.login", "admin.sso_login", "admin.sso_callback"}
DOWNLOADS = {"admin.requests_csv", "admin.incidents_csv", "admin.audit_export"}


def sample_url(rule) -> str:
    return re.sub(r"<[^>]+>", "x", rule.rule)


# --- Nothing without signing in ----------------------------------------------------------------

def test_every_admin_url_redirects_or_refuses_without_a_session(hotline):
    client = hotline.app.test_client()
    token = form_token(client)     # a valid token, so what refuses below is the missing session
    rules = [r for r in hotline.app.url_map.iter_rules() if r.rule.startswith("/admin") and r.endpoint not in SIGN_IN]
    endpoints = {r.endpoint for r in rules}
    assert {"admin.incidents", "admin.drills", "admin.incident", "admin.acknowledge_incident", "admin.close_incident",
            "admin.requests_page", "admin.mark_processed", "admin.requests_csv", "admin.languages", "admin.health",
            "admin.logout"} <= endpoints
    for rule in rules:
        url = sample_url(rule)
        if "GET" in rule.methods:
            response = client.get(url)
            if rule.endpoint in DOWNLOADS:
                assert response.status_code == 401, url        # a download never answers with a page
            else:
                assert response.status_code == 302, url
                assert response.headers["Location"].startswith("/admin/login"), url
        if "POST" in rule.methods:
            response = client.post(url, data={"csrf_token": token})
            assert response.status_code in (401, 403), (url, response.status_code)
    # And the sign-in page links back where the person was going.
    assert client.get("/admin/languages").headers["Location"] == "/admin/login?next=/admin/languages"


def test_a_wrong_password_is_refused(hotline):
    client = hotline.app.test_client()
    response = sign_in(client, "wrong horse")
    assert response.status_code == 401 and "not right" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    assert sign_in(client, "").status_code in (400, 401)


def test_without_a_configured_password_nobody_signs_in_and_the_page_says_how_to_set_one(make_hotline):
    hotline = make_hotline(admin_password_hash=None)
    client = hotline.app.test_client()
    text = client.get("/admin/login").get_data(as_text=True)
    assert "HOTLINE_ADMIN_PASSWORD_HASH" in text and "hotline admin hash-password" in text
    assert 'type="password"' not in text, "no form to fill in"
    # The page shows no form, hence no token: switch the CSRF check off to reach the password check.
    hotline.app.config["WTF_CSRF_ENABLED"] = False
    for password in ("", "anything"):
        assert client.post("/admin/login", data={"password": password}).status_code == 403
    assert client.get("/admin/").status_code == 302


def test_wrong_passwords_delay_the_next_attempt_from_that_address(hotline, monkeypatch):
    clock = [time.time()]
    monkeypatch.setattr(auth, "now", lambda: clock[0])
    client = hotline.app.test_client()
    for _ in range(throttle.FREE_FAILURES):
        assert sign_in(client, "guess").status_code == 401
    delayed = sign_in(client, PASSWORD)
    assert delayed.status_code == 429, "during the delay not even the right password is checked"
    assert "Wait 1 second" in delayed.get_data(as_text=True) and delayed.headers["Retry-After"] == "1"
    assert client.get("/admin/").status_code == 302
    elsewhere = hotline.app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert sign_in(elsewhere).status_code == 302, "another address is not slowed down"
    # A forged X-Forwarded-For does not escape the delay (no proxy is trusted by default).
    forged = client.post("/admin/login", data={"password": PASSWORD, "csrf_token": form_token(client)},
                         headers={"X-Forwarded-For": "198.51.100.9"})
    assert forged.status_code == 429
    clock[0] += 1
    assert sign_in(client).status_code == 302, "after the delay the right password works"


def test_a_correct_sign_in_clears_the_count(hotline, monkeypatch):
    clock = [time.time()]
    monkeypatch.setattr(auth, "now", lambda: clock[0])
    client = hotline.app.test_client()
    for _ in range(throttle.FREE_FAILURES - 1):
        sign_in(client, "guess")
    assert sign_in(client).status_code == 302
    other = hotline.app.test_client()
    for _ in range(throttle.FREE_FAILURES):
        assert sign_in(other, "guess").status_code == 401


def test_with_redis_unreachable_the_dashboard_says_so(make_hotline):
    from hotline.redis_server import free_port

    hotline = make_hotline(admin_password_hash=PASSWORD_HASH, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    client = hotline.app.test_client()
    response = sign_in(client)
    assert response.status_code == 503 and "Redis does not answer" in response.get_data(as_text=True)


def test_the_next_page_is_only_ever_inside_the_dashboard(hotline):
    client = hotline.app.test_client()
    assert sign_in(client, next="/admin/health").headers["Location"] == "/admin/health"
    other = hotline.app.test_client()
    for target in ("https://evil.example/admin", "//evil.example/admin", "/sms"):
        assert sign_in(other, next=target).headers["Location"] == "/admin/"
        other.post("/admin/logout", data={"csrf_token": form_token(other, "/admin/")})


def test_forms_need_the_csrf_token(hotline, client):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    refused = client.post("/admin/incidents/demo/101/acknowledge")
    assert refused.status_code == 400
    assert hotline.services.incidents.get("demo", "101").status == "open"
    assert hotline.app.test_client().post("/admin/login", data={"password": PASSWORD}).status_code == 400


def test_sessions_end_after_30_idle_minutes(hotline, client, monkeypatch):
    assert client.get("/admin/").status_code == 200
    start = time.time()
    monkeypatch.setattr(auth, "now", lambda: start + 29 * 60)
    assert client.get("/admin/").status_code == 200, "activity within 30 minutes keeps the session"
    monkeypatch.setattr(auth, "now", lambda: start + 29 * 60 + 25 * 60)
    assert client.get("/admin/?status=open&auto=1").status_code == 200
    monkeypatch.setattr(auth, "now", lambda: start + 29 * 60 + 31 * 60)
    # The auto-refresh above did not count as activity: 31 minutes since the last click.
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")
    assert "30 minutes without activity" in client.get("/admin/login").get_data(as_text=True)
    monkeypatch.setattr(auth, "now", lambda: start + 29 * 60 + 32 * 60)
    assert client.get("/admin/").status_code == 302, "the session is gone, not just paused"


def test_sessions_end_after_8_hours_however_active(hotline, client, monkeypatch):
    start = time.time()
    for minutes in range(20, 8 * 60, 20):
        monkeypatch.setattr(auth, "now", lambda m=minutes: start + m * 60)
        assert client.get("/admin/").status_code == 200
    monkeypatch.setattr(auth, "now", lambda: start + 8 * 3600 + 60)
    assert client.get("/admin/").status_code == 302


def test_signing_out_ends_the_session(client):
    assert post(client, "/admin/logout").status_code == 302
    assert client.get("/admin/").status_code == 302


def test_pages_are_not_cached_or_framed(client):
    response = client.get("/admin/")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


# --- Incidents ---------------------------------------------------------------------------------

def test_acknowledging_from_the_dashboard_tells_the_reporter_like_an_sms_ack(hotline, client):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert "101" in page(client, "/admin/")
    response = post(client, "/admin/incidents/demo/101/acknowledge")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/incidents/demo/101"
    hotline.run_jobs()
    told = [m["body"] for m in hotline.fake.messages_to(FRONT_DESK)]
    assert any("Office of Legal Counsel has incident 101 and will contact you" in body for body in told)
    assert any("taken by Office of Legal Counsel" in m["body"] for m in hotline.fake.messages_to(SAFETY))
    incident = hotline.services.incidents.get("demo", "101")
    assert incident.status == "taken" and incident.acknowledged_by == "dashboard"
    detail = page(client, "/admin/incidents/demo/101")
    assert "taken by Office of Legal Counsel (dashboard)" in detail
    assert "Office of Legal Counsel (dashboard)" in detail and "You have incident 101" in detail
    assert "Acknowledge: the legal office has it" not in detail, "no second button once acknowledged"
    # A second acknowledgement changes nothing and tells nobody again.
    post(client, "/admin/incidents/demo/101/acknowledge")
    hotline.run_jobs()
    assert sum("has incident 101" in m["body"] for m in hotline.fake.messages_to(FRONT_DESK)) == 1


def test_the_incident_page_shows_details_deliveries_and_the_timeline_in_local_time(hotline, client):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.text(FRONT_DESK, STAFF_LINE, "Agent <b>Smith</b>, badge 4471")
    incident = hotline.services.incidents.get("demo", "101")
    hotline.services.incidents.record_detail(incident, "document_photos", ["https://api.twilio.com/media/ME1",
                                                                          "javascript:alert(1)"])
    hotline.run_jobs()
    detail = page(client, "/admin/incidents/demo/101")
    assert "Agent &lt;b&gt;Smith&lt;/b&gt;, badge 4471" in detail, "answers are escaped"
    # Photos show from the hotline's copies (Documents), never by a raw Twilio URL (issue 10).
    assert "2 photo(s), see Documents" in detail and "api.twilio.com" not in detail and 'href="javascript' not in detail
    assert "Office of Legal Counsel" in detail and "Department of Safety" in detail   # escalations
    assert "Lincoln Elementary" in detail and "Maria Lopez, front desk" in detail
    local = hotline.services.directory.get("demo").local(incident.created).strftime("%Y-%m-%d %H:%M")
    assert local in detail and ("MST" in detail or "MDT" in detail)
    assert client.get("/admin/incidents/demo/999").status_code == 404
    assert client.get("/admin/incidents/nowhere/101").status_code == 404


def test_closing_from_the_dashboard_stops_it_and_tells_the_contacts(hotline, client):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert post(client, "/admin/incidents/demo/101/close").status_code == 302
    hotline.run_jobs()
    incident = hotline.services.incidents.get("demo", "101")
    assert incident.status == "closed" and incident.closed_at
    assert any("Incident 101 was closed by Office of Legal Counsel" in m["body"]
               for m in hotline.fake.messages_to(LEGAL))
    assert any("Incident 101 was closed by Office of Legal Counsel" in m["body"]
               for m in hotline.fake.messages_to(FRONT_DESK)), "the reporter is told too"
    assert "closed by Office of Legal Counsel (dashboard)" in page(client, "/admin/incidents/demo/101")
    assert "101" in page(client, "/admin/?status=closed")
    assert 'href="/admin/incidents/demo/101"' not in page(client, "/admin/?status=open")


def test_drills_have_their_own_tab_and_never_count_as_incidents(hotline, client):
    hotline.text(FRONT_DESK, STAFF_LINE, "DRILL")
    listing = page(client, "/admin/?status=all")
    assert "D101" not in listing and "No incidents." in listing
    assert re.search(r'All <span class="count">0</span>', listing)
    drills = page(client, "/admin/drills")
    assert "D101" in drills and re.search(r'All <span class="count">1</span>', drills)
    hotline.text(PARENT, STAFF_LINE, "ICE")  # an unlisted number: the protocol, but no incident
    assert re.search(r'Open <span class="count">0</span>', page(client, "/admin/"))
    hotline.text(ROOSEVELT_DESK, STAFF_LINE, "ICE")                  # a roster number: a real incident
    listing = page(client, "/admin/")
    assert re.search(r'Open <span class="count">1</span>', listing) and "D101" not in listing


# --- Office requests ---------------------------------------------------------------------------

def make_requests(hotline):
    store = hotline.services.requests
    update = store.create(district_id="demo", type="contact_update", line="+13035550101", language="es",
                          caller=PARENT, school="lincoln",
                          fields={"student_name": "Ana Pérez", "contact_name": "Rosa Pérez",
                                  "relationship": "aunt", "contact_phone": "+17205550177"})
    concern = store.create(district_id="demo", type="concern", line="+13035550101", language="en", caller=None,
                           school=None, fields={"description": "=HYPERLINK(\"http://evil\")", "anonymous": "yes"})
    voicemail = store.create(district_id="demo", type="voicemail", line="+13035550101", language="ar",
                             caller=PARENT, school=None,
                             fields={"message": "https://api.twilio.com/2010-04-01/Recordings/RE1"})
    return update, concern, voicemail


def test_requests_are_listed_marked_processed_and_filtered(hotline, client):
    update, concern, voicemail = make_requests(hotline)
    listing = page(client, "/admin/requests")
    for item in (update, concern, voicemail):
        assert f"#{item.reference}" in listing
    assert "Ana Pérez" in listing and "anonymous" in listing
    assert 'href="https://api.twilio.com/2010-04-01/Recordings/RE1"' in listing
    response = post(client, f"/admin/requests/demo/{update.reference}/processed", shown="new")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/requests?status=new"
    done = hotline.services.requests.get("demo", update.reference)
    assert done.status == "processed" and done.processed_by == "dashboard"
    assert f"#{update.reference}" not in page(client, "/admin/requests?status=new")
    assert f"#{update.reference}" in page(client, "/admin/requests?status=processed")
    assert post(client, "/admin/requests/demo/99999/processed").status_code == 404


def test_requests_export_as_csv_safe_for_spreadsheets(hotline, client):
    update, concern, voicemail = make_requests(hotline)
    hotline.services.requests.mark_processed("demo", voicemail.reference, by="someone")
    response = client.get("/admin/requests.csv?status=all")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {row["reference"] for row in rows} == {update.reference, concern.reference, voicemail.reference}
    by_ref = {row["reference"]: row for row in rows}
    assert by_ref[update.reference]["student_name"] == "Ana Pérez"
    assert by_ref[update.reference]["contact_phone"] == "+17205550177", "phone numbers stay as they are"
    assert by_ref[update.reference]["school"] == "Lincoln Elementary"
    assert by_ref[concern.reference]["caller"] == "anonymous"
    assert by_ref[concern.reference]["description"].startswith("'="), "a formula is defused"
    new_only = list(csv.DictReader(io.StringIO(client.get("/admin/requests.csv").get_data(as_text=True))))
    assert {row["reference"] for row in new_only} == {update.reference, concern.reference}


# --- Languages and health ----------------------------------------------------------------------

def test_the_languages_page_shows_each_catalogs_coverage(hotline, client):
    from hotline.check import language_rows

    district = hotline.services.directory.get("demo")
    rows = language_rows(hotline.services.content(district).catalogs, list(district.languages))
    text = page(client, "/admin/languages")
    for row in rows:
        assert f"<code>{row['code']}</code>" in text and row["keys"] in text and row["voice"] in text


def test_the_health_page_shows_queue_workers_and_heartbeat(hotline, client):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    text = page(client, "/admin/health")
    assert "Jobs waiting" in text and "Reconciler last ran" in text and "never" in text
    assert re.search(r"Jobs waiting</dt><dd>\d+", text)


def test_the_health_page_shows_the_dry_run_outbox(make_hotline):
    hotline = make_hotline(dry_run=True, admin_password_hash=PASSWORD_HASH)
    client = hotline.app.test_client()
    sign_in(client)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    text = page(client, "/admin/health")
    assert "Dry-run outbox" in text and f"{STAFF_LINE} → {LEGAL}" in text
