"""People, not a shared password (issue 14): accounts with roles and district/school scope on a
deployment serving two districts, server-side sessions, sign-in throttling that never locks the
owner out, the audit log, the `hotline users` command, and SSO against a local OIDC provider."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner
from werkzeug.security import generate_password_hash

from conftest import (ACCOUNT_SID, AUTH_TOKEN, FAMILY_LINE, FRONT_DESK, LEGAL, PARENT, STAFF_LINE, Hotline,
                      settings_for_tests, write_demo_copy)
from hotline import retention
from hotline.accounts import roles, throttle
from hotline.admin import auth
from hotline.app import create_app
from hotline.cli import main
from hotline.content import messages_dir
from hotline.district import read_directory
from hotline.messages import load_catalogs
from hotline.problems import ConfigError
from hotline.settings import settings_from_env
from hotline.services import install
from hotline.sim.phone import TwilioPhone, flask_transport
from hotline.testing.oidc_provider import OIDCProvider, Person

PASSWORD = "a long enough password"
# A cheap hash keeps the tests fast; accounts made by `hotline users` get Werkzeug's scrypt.
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
NORTH_STAFF_LINE, NORTH_FAMILY_LINE = "+13035550200", "+13035550201"

# Every dashboard endpoint and the permission it needs (None: any signed-in account). A new view
# without a line here fails the walk below.
NEEDS = {
    "admin.incidents": roles.INCIDENTS_VIEW, "admin.drills": roles.INCIDENTS_VIEW,
    "admin.incident": roles.INCIDENTS_VIEW, "admin.acknowledge_incident": roles.INCIDENTS_TAKE,
    "admin.close_incident": roles.INCIDENTS_CLOSE, "admin.incidents_csv": roles.INCIDENTS_EXPORT,
    "admin.requests_page": roles.REQUESTS_VIEW, "admin.mark_processed": roles.REQUESTS_PROCESS,
    "admin.requests_csv": roles.REQUESTS_EXPORT, "admin.languages": roles.SETTINGS_VIEW,
    "admin.health": roles.SETTINGS_VIEW, "admin.audit_page": roles.AUDIT_VIEW, "admin.audit_export": roles.AUDIT_VIEW,
    "admin.users_page": roles.USERS_MANAGE, "admin.change_user": roles.USERS_MANAGE,
    "admin.account_page": None, "admin.end_other_sessions": None, "admin.end_session": None, "admin.home": None,
    "admin.logout": None, "admin_documents.document": roles.DOCUMENTS_VIEW, "admin.security_page": roles.SECURITY_VIEW,
}
SIGN_IN = {"admin.login", "admin.sso_login", "admin.sso_callback"}


def make_deployment(redis_url, fake, tmp_path, **settings_changes) -> Hotline:
    """One hotline serving two districts: demo and north (the number called picks the district)."""
    folder = tmp_path / "districts"
    write_demo_copy(folder / "demo.yaml")
    write_demo_copy(folder / "north.yaml", {
        "district": {"id": "north", "name": "North School District"},
        "lines": [{"number": NORTH_STAFF_LINE, "kind": "staff", "name": "Staff line"},
                  {"number": NORTH_FAMILY_LINE, "kind": "family", "name": "Family line"}]})
    settings = settings_for_tests(redis_url, folder, fake, **settings_changes)
    app = create_app(settings)
    phone = TwilioPhone(settings.public_url, AUTH_TOKEN, flask_transport(app.test_client()), ACCOUNT_SID)
    return Hotline(app, app.extensions["hotline"], phone, fake, settings)


@pytest.fixture
def hotline(redis_url, fake_twilio, tmp_path):
    yield make_deployment(redis_url, fake_twilio, tmp_path)
    install(None)


def add(hotline, email, role, districts=("demo",), schools=(), name=None, phone=None):
    return hotline.services.accounts.create(name=name or email.split("@")[0].replace(".", " ").title(), email=email,
                                            role=role, districts=list(districts), schools=list(schools), phone=phone,
                                            password_hash=FAST_HASH)


@pytest.fixture
def people(hotline):
    return {
        "district_admin": add(hotline, "ada.admin@demo.org", "district_admin"),
        "legal": add(hotline, "lena.legal@demo.org", "legal", name="Lena Legal"),
        "safety": add(hotline, "sam.safety@demo.org", "safety"),
        "school_office": add(hotline, "olga.office@demo.org", "school_office", schools=["lincoln"]),
        "auditor": add(hotline, "aldo.auditor@demo.org", "auditor"),
        "north_legal": add(hotline, "nora.north@north.org", "legal", districts=["north"]),
        "north_admin": add(hotline, "ned.north@north.org", "district_admin", districts=["north"]),
        "spare": add(hotline, "spare@demo.org", "safety"),
    }


def token(client, path="/admin/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, email, password=PASSWORD):
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token(client)})


def signed_in_client(hotline, account):
    client = hotline.app.test_client()
    response = sign_in(client, account.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def post(client, path, **data):
    return client.post(path, data={"csrf_token": token(client, "/admin/account"), **data})


def make_requests(hotline):
    store = hotline.services.requests
    lincoln = store.create(district_id="demo", type="contact_update", line=FAMILY_LINE, language="es", caller=PARENT,
                           school="lincoln", fields={"student_name": "Ana P.", "contact_name": "Rosa P."})
    roosevelt = store.create(district_id="demo", type="contact_update", line=FAMILY_LINE, language="en",
                             caller=PARENT, school="roosevelt", fields={"student_name": "Ben Q.", "contact_name": "Q."})
    concern = store.create(district_id="demo", type="concern", line=FAMILY_LINE, language="en", caller=None,
                           school=None, fields={"description": "someone at the gate"})
    north = store.create(district_id="north", type="contact_update", line=NORTH_FAMILY_LINE, language="en",
                         caller=PARENT, school="lincoln", fields={"student_name": "Nils N.", "contact_name": "N."})
    return lincoln, roosevelt, concern, north


def sample_url(rule, values) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values[m.group(1)], rule.rule)


# --- The URL map, per role and for another district --------------------------------------------

def test_every_view_checks_role_and_district_for_every_role(hotline, people):
    assert any("Incident 101" in reply for reply in hotline.text(FRONT_DESK, STAFF_LINE, "ICE"))
    lincoln, roosevelt, concern, north = make_requests(hotline)
    rules = [r for r in hotline.app.url_map.iter_rules() if r.rule.startswith("/admin") and r.endpoint not in SIGN_IN]
    assert {r.endpoint for r in rules} == set(NEEDS), "every dashboard view is in the table above"
    rules.sort(key=lambda r: r.endpoint == "admin.logout")          # signing out last
    values = {"district_id": "demo", "incident_id": "101", "reference": lincoln.reference, "fmt": "csv",
              "account_id": people["spare"].id, "change": "disable", "session_handle": "0" * 16,
              "document_id": "ME" + "0" * 32}
    for who, account in people.items():
        if who == "spare":
            continue
        client = signed_in_client(hotline, account)
        foreign = not account.in_district("demo")
        for rule in rules:
            url = sample_url(rule, values)
            method = "POST" if "POST" in rule.methods else "GET"
            response = post(client, url) if method == "POST" else client.get(url)
            needed = NEEDS[rule.endpoint]
            if needed and not account.can(needed):
                assert response.status_code == 403, (who, method, url, response.status_code)
            elif foreign and "<district_id>" in rule.rule:
                assert response.status_code == 404, (who, method, url, response.status_code)
            elif rule.endpoint == "admin.change_user" and foreign:
                assert response.status_code == 404, "another district's account is not theirs to change"
            elif rule.endpoint == "admin.end_session":
                assert response.status_code == 404, "a session that is not theirs"
            elif rule.endpoint == "admin_documents.document":
                assert response.status_code == 404, "incident 101 has no such document (test_documents serves one)"
            else:
                assert response.status_code in (200, 302), (who, method, url, response.status_code)
                if method == "GET" and response.status_code == 302:
                    assert not response.headers["Location"].startswith("/admin/login"), (who, url)
    # The other district's people saw none of demo's incidents, requests or audit entries.
    north_legal = signed_in_client(hotline, people["north_legal"])
    assert "/admin/incidents/demo/101" not in north_legal.get("/admin/?status=all").get_data(as_text=True)
    listing = north_legal.get("/admin/requests?status=all").get_data(as_text=True)
    assert f"#{north.reference}" in listing and "Ana P." not in listing and "someone at the gate" not in listing
    exported = north_legal.get("/admin/requests.csv?status=all").get_data(as_text=True)
    assert {row["district"] for row in csv.DictReader(io.StringIO(exported))} == {"north"}
    north_admin = signed_in_client(hotline, people["north_admin"])
    audit = json.loads(north_admin.get("/admin/audit.json").get_data(as_text=True))
    assert audit and {entry["district"] for entry in audit} == {"north"}
    assert "lena.legal@demo.org" not in north_admin.get("/admin/users").get_data(as_text=True)


def test_a_school_office_sees_only_its_schools_requests(hotline, people):
    lincoln, roosevelt, concern, north = make_requests(hotline)
    office = signed_in_client(hotline, people["school_office"])
    assert office.get("/admin/").status_code == 403, "no incidents for a school office"
    listing = office.get("/admin/requests?status=all").get_data(as_text=True)
    assert f"#{lincoln.reference}" in listing and "Ana P." in listing
    assert "Ben Q." not in listing, "another school's request"
    assert "someone at the gate" not in listing, "a request without a school is for district roles only"
    assert "Nils N." not in listing, "another district's Lincoln is not its school"
    assert "Export CSV" not in listing and office.get("/admin/requests.csv").status_code == 403
    assert post(office, f"/admin/requests/demo/{roosevelt.reference}/processed").status_code == 404
    assert post(office, f"/admin/requests/demo/{concern.reference}/processed").status_code == 404
    assert post(office, f"/admin/requests/demo/{lincoln.reference}/processed").status_code == 302
    done = hotline.services.requests.get("demo", lincoln.reference)
    assert done.status == "processed" and done.processed_by == people["school_office"].name
    nav = office.get("/admin/requests").get_data(as_text=True)
    assert ">Requests<" in nav and ">Incidents<" not in nav and ">Audit log<" not in nav
    # The legal office sees all three of its district's requests.
    legal = signed_in_client(hotline, people["legal"]).get("/admin/requests?status=all").get_data(as_text=True)
    assert "Ana P." in legal and "Ben Q." in legal and "someone at the gate" in legal and "Nils N." not in legal


# --- Sessions --------------------------------------------------------------------------------------

def copy_of(hotline, client):
    thief = hotline.app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_signing_out_ends_the_session_for_a_copied_cookie_too(hotline, people):
    client = signed_in_client(hotline, people["legal"])
    thief = copy_of(hotline, client)
    assert thief.get("/admin/").status_code == 200, "the copy works while the session lives"
    assert post(client, "/admin/logout").status_code == 302
    response = thief.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")


def test_disabling_or_resetting_an_account_ends_its_sessions_at_once(hotline, people, tmp_path):
    runner = CliRunner()
    env = {"REDIS_URL": hotline.settings.redis_url, "HOTLINE_DISTRICT": str(hotline.settings.district_path)}
    client = signed_in_client(hotline, people["legal"])
    thief = copy_of(hotline, client)
    result = runner.invoke(main, ["users", "reset", "lena.legal@demo.org", "--generate-password"], env=env)
    assert result.exit_code == 0, result.output
    new_password = re.search(r"shown once, give it to the person\): (\S+)", result.output).group(1)
    assert client.get("/admin/").status_code == 302 and thief.get("/admin/").status_code == 302
    assert sign_in(hotline.app.test_client(), "lena.legal@demo.org").status_code == 401, "the old password is gone"
    client = hotline.app.test_client()
    assert sign_in(client, "lena.legal@demo.org", new_password).status_code == 302
    thief = copy_of(hotline, client)
    result = runner.invoke(main, ["users", "disable", "lena.legal@demo.org"], env=env)
    assert result.exit_code == 0 and "1 session(s) ended" in result.output, result.output
    assert client.get("/admin/").status_code == 302 and thief.get("/admin/").status_code == 302
    assert sign_in(hotline.app.test_client(), "lena.legal@demo.org", new_password).status_code == 401
    # Disabling from the dashboard does the same.
    admin = signed_in_client(hotline, people["district_admin"])
    safety = signed_in_client(hotline, people["safety"])
    assert post(admin, f"/admin/users/{people['safety'].id}/disable").status_code == 302
    assert safety.get("/admin/").status_code == 302
    actions = [e["action"] for e in hotline.services.audit.entries("demo")]
    assert {"password_reset", "user_disabled"} <= set(actions)


def test_a_person_sees_and_ends_their_other_sessions(hotline, people):
    laptop = signed_in_client(hotline, people["legal"])
    phone = hotline.app.test_client()
    phone.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    assert sign_in(phone, "lena.legal@demo.org").status_code == 302
    page = laptop.get("/admin/account").get_data(as_text=True)
    assert page.count('<li class="session') == 2 and "192.0.2.44" in page and "This browser" in page
    assert hotline.services.web_sessions.get(phone.get_cookie("session").value) is None, "the cookie is no session id"
    handle = re.search(r'/admin/account/sessions/([0-9a-f]{16})/end', page).group(1)
    assert post(laptop, f"/admin/account/sessions/{handle}/end").status_code == 302
    assert phone.get("/admin/").status_code == 302 and laptop.get("/admin/").status_code == 200
    # Another account's session cannot be ended (nor seen) from here.
    other = signed_in_client(hotline, people["safety"])
    other_page = other.get("/admin/account").get_data(as_text=True)
    assert other_page.count('<li class="session') == 1 and "192.0.2.44" not in other_page
    assert not re.findall(r"/admin/account/sessions/([0-9a-f]{16})/end", other_page), "no End on the current one"
    other_handle = re.search(r"/admin/account/sessions/([0-9a-f]{16})/end", page).group(1)
    assert post(other, f"/admin/account/sessions/{other_handle}/end").status_code == 404
    # "End all other sessions" ends every one but this.
    again = hotline.app.test_client()
    assert sign_in(again, "lena.legal@demo.org").status_code == 302
    assert post(laptop, "/admin/account/sessions/end-others").status_code == 302
    assert again.get("/admin/").status_code == 302 and laptop.get("/admin/").status_code == 200


# --- Throttling -------------------------------------------------------------------------------

def test_twenty_wrong_passwords_from_one_address_do_not_stop_the_right_one(hotline, people, monkeypatch):
    clock = [time.time()]
    monkeypatch.setattr(auth, "now", lambda: clock[0])
    client = hotline.app.test_client()
    checked = 0
    while checked < 20:
        response = sign_in(client, "lena.legal@demo.org", "guess")
        if response.status_code == 429:
            wait = int(response.headers["Retry-After"])
            assert 1 <= wait <= throttle.CAP
            clock[0] += wait
            continue
        assert response.status_code == 401
        checked += 1
    response = sign_in(client, "lena.legal@demo.org")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) <= throttle.CAP, \
        "the delay is capped: never a lock"
    clock[0] += int(response.headers["Retry-After"])
    assert sign_in(client, "lena.legal@demo.org").status_code == 302, "after the delay, the right password works"
    # The legal office was texted once about the repeated failures on a legal account.
    hotline.run_jobs()
    alerts = [m for m in hotline.fake.messages_to(LEGAL) if "wrong passwords in a row" in m["body"]]
    assert len(alerts) == 1 and "Lena Legal" in alerts[0]["body"] and f"{throttle.ALERT_AFTER} wrong" in alerts[0]["body"]
    failed = [e for e in hotline.services.audit.entries("demo") if e["action"] == "sign_in_failed"]
    assert len(failed) == 20 and failed[0]["actor"] == "Lena Legal"


def test_an_unknown_email_is_answered_like_a_wrong_password(hotline, people):
    client = hotline.app.test_client()
    unknown = sign_in(client, "nobody@demo.org").get_data(as_text=True)
    wrong = sign_in(hotline.app.test_client(), "lena.legal@demo.org", "nope").get_data(as_text=True)
    assert "do not match an account" in unknown and "do not match an account" in wrong


# --- Audit log and "taken by <name>" ------------------------------------------------------------

def test_the_audit_log_records_a_full_scenario_with_the_persons_name(hotline, people):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    legal = hotline.app.test_client()
    legal.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    assert sign_in(legal, "lena.legal@demo.org").status_code == 302
    assert legal.get("/admin/incidents/demo/101").status_code == 200
    assert post(legal, "/admin/incidents/demo/101/acknowledge").status_code == 302
    exported = legal.get("/admin/incidents.csv")
    assert exported.status_code == 200 and "Lena Legal (Office of Legal Counsel)" in exported.get_data(as_text=True)
    assert post(legal, "/admin/incidents/demo/101/close").status_code == 302
    hotline.run_jobs()
    entries = {e["action"]: e for e in hotline.services.audit.entries("demo") if e["actor"] == "Lena Legal"}
    for action, target in (("sign_in", ""), ("view_incident", "101"), ("acknowledge", "101"),
                           ("export_incidents", ""), ("close", "101")):
        assert action in entries, action
        assert entries[action]["target"] == target and entries[action]["address"] == "198.51.100.23"
        assert entries[action]["email"] == "lena.legal@demo.org" and entries[action]["role"] == "legal"
    assert "101" in entries["export_incidents"]["detail"]["ids"]
    # The incident says who took it and who closed it.
    page = legal.get("/admin/incidents/demo/101").get_data(as_text=True)
    assert "taken by Lena Legal for Office of Legal Counsel (dashboard)" in page
    assert "closed by Lena Legal for Office of Legal Counsel (dashboard)" in page
    assert "Lena Legal (Office of Legal Counsel)" in legal.get("/admin/?status=all").get_data(as_text=True)
    # The auditor sees it all, and exports it; the audit log never holds what the incident says.
    auditor = signed_in_client(hotline, people["auditor"])
    assert post(auditor, "/admin/incidents/demo/101/close").status_code == 403, "read-only"
    text = auditor.get("/admin/audit").get_data(as_text=True)
    assert "Lena Legal" in text and "view incident" in text and "export incidents" in text
    rows = list(csv.DictReader(io.StringIO(auditor.get("/admin/audit.csv").get_data(as_text=True))))
    assert {"sign_in", "view_incident", "acknowledge", "export_incidents", "close"} <= \
        {r["action"] for r in rows if r["actor"] == "Lena Legal"}
    as_json = json.loads(auditor.get("/admin/audit.json").get_data(as_text=True))
    assert any(e["action"] == "view_audit" and e["actor"] == people["auditor"].name for e in as_json)
    assert "Maria Lopez" not in json.dumps(as_json), "names and ids only, never the incident's content"


def test_an_ack_by_text_from_a_number_an_account_holds_names_the_person(hotline, people):
    add(hotline, "paula.counsel@demo.org", "legal", name="Paula Counsel", phone=LEGAL)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    hotline.text(LEGAL, STAFF_LINE, "ACK 101")
    events = [e["text"] for e in hotline.services.incidents.timeline("demo", "101") if e["kind"] == "taken"]
    assert events == ["taken by Paula Counsel for Office of Legal Counsel (text reply)"]
    listing = signed_in_client(hotline, people["legal"]).get("/admin/?status=all").get_data(as_text=True)
    assert "Paula Counsel (Office of Legal Counsel)" in listing


def test_the_audit_log_is_kept_for_the_districts_retention(hotline, people):
    signed_in_client(hotline, people["legal"])
    assert hotline.services.audit.entries("demo")
    district = hotline.services.directory.get("demo")
    assert district.retention.audit == 3 * 365 * 86400
    summary = retention.purge(hotline.services, now=time.time() + district.retention.audit - 60)
    assert summary["demo"]["audit"] == 0 and hotline.services.audit.entries("demo")
    summary = retention.purge(hotline.services, now=time.time() + district.retention.audit + 60)
    assert summary["demo"]["audit"] >= 1 and hotline.services.audit.entries("demo") == []


# --- hotline users ---------------------------------------------------------------------------------

def test_hotline_users_adds_lists_and_refuses_bad_input(hotline):
    runner = CliRunner()
    env = {"REDIS_URL": hotline.settings.redis_url, "HOTLINE_DISTRICT": str(hotline.settings.district_path)}
    first = runner.invoke(main, ["users", "add", "--first", "--name", "Ada Admin", "--email", "Ada@Demo.org",
                                 "--district", "demo", "--generate-password"], env=env)
    assert first.exit_code == 0 and "District administrator, demo" in first.output, first.output
    again = runner.invoke(main, ["users", "add", "--first", "--name", "Eve", "--email", "eve@demo.org",
                                 "--district", "demo", "--generate-password"], env=env)
    assert again.exit_code == 1 and "Accounts exist already" in again.output
    account = hotline.services.accounts.by_email("ada@demo.org")
    assert account.role == "district_admin" and account.password_hash.startswith("scrypt:"), "a modern KDF"
    bad = runner.invoke(main, ["users", "add", "--name", "Olga", "--email", "olga@demo.org", "--role",
                               "school_office", "--district", "demo", "--school", "atlantis", "--generate-password"],
                        env=env)
    assert bad.exit_code == 2 and "--school 'atlantis'" in bad.output and "lincoln" in bad.output
    ok = runner.invoke(main, ["users", "add", "--name", "Olga", "--email", "olga@demo.org", "--role",
                              "school_office", "--district", "demo", "--school", "lincoln"],
                       env=env, input="a good long password\na good long password\n")
    assert ok.exit_code == 0, ok.output
    assert sign_in(hotline.app.test_client(), "olga@demo.org", "a good long password").status_code == 302
    listing = runner.invoke(main, ["users", "list"], env=env).output
    assert "ada@demo.org" in listing and "school_office" in listing and "demo (lincoln)" in listing
    added = [e for e in hotline.services.audit.entries("demo") if e["action"] == "user_added"]
    assert {e["target"] for e in added} == {"ada@demo.org", "olga@demo.org"}
    assert all(e["actor"].startswith("command line") for e in added)
    # Exports from the command line are in the log too.
    assert runner.invoke(main, ["requests", "export", "--format", "json"], env=env).exit_code == 0
    exported = [e for e in hotline.services.audit.entries("demo") if e["action"] == "export_requests"]
    assert len(exported) == 1 and exported[0]["actor"].startswith("command line") and exported[0]["detail"]["via"] == "cli"


# --- SSO -------------------------------------------------------------------------------------------

@pytest.fixture
def provider():
    running = OIDCProvider().start()
    yield running
    running.stop()


def sso_sign_in(client, provider, person):
    provider.person = person
    start = client.get("/admin/sso/login")
    assert start.status_code == 302 and start.headers["Location"].startswith(provider.issuer + "/authorize")
    back = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def test_sso_signs_in_the_account_with_that_email_and_nobody_else(redis_url, fake_twilio, tmp_path, provider):
    hotline = make_deployment(redis_url, fake_twilio, tmp_path, oidc_issuer=provider.issuer,
                              oidc_client_id=provider.client_id, oidc_client_secret=provider.client_secret,
                              oidc_label="Google")
    try:
        add(hotline, "lena.legal@demo.org", "legal", name="Lena Legal")
        client = hotline.app.test_client()
        assert "Sign in with Google" in client.get("/admin/login").get_data(as_text=True)
        response = sso_sign_in(client, provider, Person("Lena.Legal@demo.org", "Lena L."))
        assert response.status_code == 302 and response.headers["Location"] == "/admin/"
        assert provider.token_requests == 1, "the code was exchanged at the provider's token endpoint"
        assert client.get("/admin/").status_code == 200
        entry = hotline.services.audit.entries("demo")[0]
        assert entry["action"] == "sign_in" and entry["detail"] == {"method": "sso"} and entry["actor"] == "Lena Legal"
        # An identity with no account gets nothing; nor does an unverified email.
        stranger = hotline.app.test_client()
        refused = sso_sign_in(stranger, provider, Person("someone@demo.org"))
        assert refused.status_code == 403 and "no dashboard account has your email" in refused.get_data(as_text=True)
        assert stranger.get("/admin/").status_code == 302
        unverified = hotline.app.test_client()
        assert sso_sign_in(unverified, provider, Person("lena.legal@demo.org", email_verified=False)).status_code == 403
        assert unverified.get("/admin/").status_code == 302
        # A callback that this browser did not start (a forged or replayed state) is refused.
        provider.person = Person("lena.legal@demo.org")
        start = hotline.app.test_client().get("/admin/sso/login")
        back = urlsplit(requests.get(start.headers["Location"], allow_redirects=False, timeout=5).headers["Location"])
        other = hotline.app.test_client()
        assert other.get(f"{back.path}?{back.query}").status_code == 400
        assert other.get("/admin/").status_code == 302
    finally:
        install(None)


def test_a_keypress_from_a_number_an_account_holds_names_the_person(make_live_hotline):
    live = make_live_hotline({"escalation": {"tiers": [{"notify": ["legal_office voice"], "wait": "1s"}],
                                             "rounds": 1}})
    live.services.accounts.create(name="Paula Counsel", email="paula@demo.org", role="legal", districts=["demo"],
                                  phone=LEGAL, password_hash=FAST_HASH)
    live.text(FRONT_DESK, STAFF_LINE, "ICE")
    [call] = live.fake.wait_for_calls(LEGAL, timeout=20)
    assert "You have incident 101" in live.fake.answer_call(call["sid"], digits="1")
    events = [e["text"] for e in live.services.incidents.timeline("demo", "101") if e["kind"] == "taken"]
    assert events == ["taken by Paula Counsel for Office of Legal Counsel (phone call)"]


def test_bad_audit_retention_and_half_configured_sso_are_named_with_their_fix(tmp_path):
    path = write_demo_copy(tmp_path / "bad.yaml", {"retention": {"audit": "three years"}})
    _, problems = read_directory(path, load_catalogs(messages_dir()).codes)
    [problem] = [p for p in problems if p.key == "retention.audit"]
    assert "30d" in str(problem)
    with pytest.raises(ConfigError) as raised:
        settings_from_env({"HOTLINE_OIDC_ISSUER": "https://accounts.google.com"})
    assert any(p.key == "HOTLINE_OIDC_CLIENT_ID" for p in raised.value.problems)
    with pytest.raises(ConfigError) as raised:
        settings_from_env({"HOTLINE_OIDC_ISSUER": "accounts.google.com", "HOTLINE_OIDC_CLIENT_ID": "x",
                           "HOTLINE_OIDC_CLIENT_SECRET": "y"})
    assert [p.key for p in raised.value.problems] == ["HOTLINE_OIDC_ISSUER"]
