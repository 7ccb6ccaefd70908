"""The officers' documents reach the legal office (issue 10, item 8): photos sent at the photo step
are copied off Twilio with the account's credentials, deleted there, forwarded by MMS to the legal
roles only (Twilio fetching them from the hotline's signed, expiring links), shown on the dashboard
only to a signed-in user, and deleted with their incident."""

from __future__ import annotations

import re
import time

import pytest
import requests
from werkzeug.security import generate_password_hash

from conftest import BACKUP, DESIGNEE, FRONT_DESK, LEGAL, PRINCIPAL, SAFETY, STAFF_LINE
from hotline.incidents import documents, escalation
from hotline.incidents.forwarding import _batches
from hotline.retention import purge

PASSWORD = "correct horse"
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
PAGE_1 = b"\xff\xd8\xff\xe0JFIF warrant page 1"
PAGE_2 = b"\x89PNG\r\n\x1a\n warrant page 2"
UP_TO_PHOTOS = ("Agent Smith 4471", "1", "0", "A visit", "1")   # name, waiting, supervisor, purpose, warrant


def sign_in(client) -> None:
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/admin/login", data={"password": PASSWORD, "csrf_token": token}).status_code == 302


@pytest.fixture
def live(make_live_hotline, tmp_path):
    # Served over real HTTP (Twilio must fetch the signed links); jobs run in this process.
    return make_live_hotline(worker=False, admin_password_hash=PASSWORD_HASH, documents_dir=tmp_path / "documents")


def send_photos(live) -> list[str]:
    live.text(FRONT_DESK, STAFF_LINE, "ICE")
    for answer in UP_TO_PHOTOS:
        live.text(FRONT_DESK, STAFF_LINE, answer)
    assert live.fake.wait_for(lambda: live.fake.messages_to(LEGAL), timeout=20) if live.workers else \
        live.run_jobs(lambda: live.fake.messages_to(LEGAL))           # legal was alerted at the start
    _, urls = live.fake.add_inbound_media([(PAGE_1, "image/jpeg"), (PAGE_2, "image/png")])
    # A signed inbound /sms with NumMedia=2 and MediaUrl0/1 at the Twilio server's Media resources.
    form = live.phone.text_form(FRONT_DESK, STAFF_LINE, "", media=tuple(urls))
    form["MediaContentType1"] = "image/png"
    answer = live.phone.post("/sms", form)
    assert answer.status == 200 and "say it is an emergency" in answer.text
    return urls


def mms_to(live, number: str) -> list[dict]:
    return [m for m in live.fake.messages_to(number) if m["params"].get("MediaUrl")]


def test_two_photos_reach_legal_by_mms_and_the_dashboard_and_leave_twilio(live):
    urls = send_photos(live)
    assert live.run_jobs(lambda: mms_to(live, LEGAL) and len(live.fake.media_fetches) == 2), live.fake._summary()

    [mms] = mms_to(live, LEGAL)
    assert mms["num_media"] == "2" and "Photos attached: 2" in mms["body"] and "incident 101" in mms["body"]
    # Twilio fetched both from the hotline's signed links, not from its own media URLs.
    fetched = [f for f in live.fake.media_fetches if f["message_sid"] == mms["sid"]]
    assert sorted((f["status"], f["content"], f["content_type"]) for f in fetched) == sorted(
        [(200, PAGE_1, "image/jpeg"), (200, PAGE_2, "image/png")])
    assert all(f["url"].startswith(live.settings.public_url + "/documents/") for f in fetched)
    assert not any(live.fake.base_url in url for url in mms["params"]["MediaUrl"])
    # The legal roles only: never safety, never the school leader.
    assert mms_to(live, SAFETY) == [] and mms_to(live, PRINCIPAL) == []
    assert live.fake.wait_for(lambda: live.fake.messages_to(LEGAL)[-1]["status"] == "delivered")

    # Deleted at the Twilio server once copied.
    assert [m["deleted"] for m in live.fake.media] == [True, True]
    deletes = [r for r in live.fake.requests if r["method"] == "DELETE" and "/Media/" in r["path"]]
    assert sorted(r["path"].rsplit("/", 1)[1] for r in deletes) == sorted(u.rsplit("/", 1)[1] + ".json" for u in urls)
    assert all(r["status"] == 204 for r in deletes)

    # The dashboard serves the copies through the hotline, to a signed-in user only.
    copies = documents.listing(live.services, "demo", "101")
    assert [(d.content_type, d.size) for d in copies] == [("image/jpeg", len(PAGE_1)), ("image/png", len(PAGE_2))]
    path = f"/admin/incidents/demo/101/documents/{copies[0].id}"
    stranger = live.app.test_client()
    refused = stranger.get(path)
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/admin/login")
    assert PAGE_1 not in refused.get_data()
    client = live.app.test_client()
    sign_in(client)
    shown = client.get(path)
    assert (shown.status_code, shown.get_data(), shown.mimetype) == (200, PAGE_1, "image/jpeg")
    assert shown.headers["Cache-Control"] == "no-store" and shown.headers["X-Content-Type-Options"] == "nosniff"
    viewed = [e for e in live.services.audit.entries("demo") if e["action"] == "view_document"]
    assert len(viewed) == 1 and viewed[0]["target"] == "101", "opening a photo is audited"
    incident_page = client.get("/admin/incidents/demo/101").get_data(as_text=True)
    assert path in incident_page and "Photo 2" in incident_page and "2 photo(s), see Documents" in incident_page
    assert live.fake.base_url not in incident_page and "api.twilio.com" not in incident_page
    timeline = " ".join(e["text"] for e in live.services.incidents.timeline("demo", "101"))
    assert "2 photo(s) copied" in timeline and "2 deleted at Twilio" in timeline
    assert "2 photo(s) forwarded by MMS to Office of Legal Counsel" in timeline
    assert live.fake.base_url not in timeline


def test_signed_links_refuse_bad_and_expired_signatures(live):
    send_photos(live)
    assert live.run_jobs(lambda: mms_to(live, LEGAL) and len(live.fake.media_fetches) == 2)
    [first, _] = documents.listing(live.services, "demo", "101")
    good = documents.sign(live.settings, "demo", "101", first.id, int(time.time()) + 60)
    answer = requests.get(f"{live.settings.public_url}/documents/{good}", timeout=5)
    assert (answer.status_code, answer.content, answer.headers["Cache-Control"]) == (200, PAGE_1, "no-store")
    expired = documents.sign(live.settings, "demo", "101", first.id, int(time.time()) - 1)
    assert requests.get(f"{live.settings.public_url}/documents/{expired}", timeout=5).status_code == 403
    tampered = good.replace(".101.", ".102.")
    assert requests.get(f"{live.settings.public_url}/documents/{tampered}", timeout=5).status_code == 404
    other_secret = documents.sign(live.settings.replace(secret_key="another"), "demo", "101", first.id,
                                  int(time.time()) + 60)
    assert requests.get(f"{live.settings.public_url}/documents/{other_secret}", timeout=5).status_code == 404
    assert requests.get(f"{live.settings.public_url}/documents/nonsense", timeout=5).status_code == 404


def test_legal_contacts_notified_later_get_the_photos_then_and_others_never(live):
    send_photos(live)
    assert live.run_jobs(lambda: mms_to(live, LEGAL) and len(live.fake.media_fetches) == 2)
    # Nobody acknowledged: the next tiers (backup counsel, then the designee) are reached later.
    tiers = live.services.incidents.get("demo", "101").policy["tiers"]
    for tier in range(1, len(tiers)):
        escalation.run_tier(live.services, "demo", "101", tier, 0)
    assert live.run_jobs(lambda: mms_to(live, BACKUP) and mms_to(live, DESIGNEE)), live.fake._summary()
    assert len(mms_to(live, LEGAL)) == 1, "each person gets each set once"
    assert [m["num_media"] for m in mms_to(live, BACKUP) + mms_to(live, DESIGNEE)] == ["2", "2"]
    assert mms_to(live, SAFETY) == [] and mms_to(live, PRINCIPAL) == []


def test_photos_are_deleted_with_their_incident(make_live_hotline, tmp_path):
    live = make_live_hotline({"retention": {"incidents": "1d"}}, worker=False, documents_dir=tmp_path / "docs")
    send_photos(live)
    assert live.run_jobs(lambda: mms_to(live, LEGAL) and len(live.fake.media_fetches) == 2)
    folder = tmp_path / "docs" / "demo" / "101"
    assert len(list(folder.iterdir())) == 2
    live.text(LEGAL, STAFF_LINE, "CLOSE 101")                          # the legal office closes it
    assert purge(live.services, now=time.time() + 2 * 86400)["demo"]["incidents"] == 1
    assert not folder.exists() and documents.listing(live.services, "demo", "101") == []


def test_a_url_that_is_not_this_accounts_media_is_never_fetched(live):
    live.text(FRONT_DESK, STAFF_LINE, "ICE")
    for answer in UP_TO_PHOTOS:
        live.text(FRONT_DESK, STAFF_LINE, answer)
    live.text(FRONT_DESK, STAFF_LINE, "", media=("https://attacker.example/steal", "https://api.twilio.com/x"))
    live.run_jobs()
    timeline = [e["text"] for e in live.services.incidents.timeline("demo", "101")]
    assert "photo 1 not copied: not a media URL of this account" in timeline
    assert documents.listing(live.services, "demo", "101") == [] and mms_to(live, LEGAL) == []


def test_a_worker_process_copies_and_forwards_them(make_live_hotline, tmp_path):
    # The whole path with the worker in its own process, as `hotline worker` runs it.
    live = make_live_hotline(documents_dir=tmp_path / "docs")
    send_photos(live)
    assert live.fake.wait_for(lambda: mms_to(live, LEGAL) and len(live.fake.media_fetches) == 2, timeout=30), \
        live.fake._summary() + live.worker_output()[-3000:]
    assert [(f["status"], f["content"]) for f in live.fake.media_fetches] == [(200, PAGE_1), (200, PAGE_2)]
    assert live.fake.wait_for(lambda: [m["deleted"] for m in live.fake.media] == [True, True], timeout=10)
    assert len(list((tmp_path / "docs" / "demo" / "101").iterdir())) == 2


def test_a_twilio_hiccup_is_retried_and_the_count_is_only_what_was_attached(live, monkeypatch):
    # The first fetch answers 500 (RQ's Retry copies it on the next run); photo 2 is gone at
    # Twilio for good (404): photo 1 alone is forwarded, and the text says 1, not 2.
    live.fake.fail_next(1, status=500, code=20500, resource="media")
    real_urls = []
    original = live.fake.add_inbound_media

    def add_and_lose_the_second(items):
        message_sid, urls = original(items)
        gone = urls[1].replace(live.fake.base_url, "") + ".json"
        assert requests.delete(live.fake.base_url + gone, auth=(live.settings.twilio_account_sid,
                                                                live.settings.twilio_auth_token), timeout=5).ok
        real_urls.extend(urls)
        return message_sid, urls

    monkeypatch.setattr(live.fake, "add_inbound_media", add_and_lose_the_second)
    send_photos(live)
    assert live.run_jobs(lambda: mms_to(live, LEGAL)), live.fake._summary()
    [mms] = mms_to(live, LEGAL)
    assert mms["num_media"] == "1" and "Photos attached: 1" in mms["body"]
    timeline = [e["text"] for e in live.services.incidents.timeline("demo", "101")]
    assert "photo 2 not copied: Twilio answered 404" in timeline and "photo 1 not copied" not in " ".join(timeline)
    assert any(t.startswith("1 photo(s) copied") for t in timeline)
    fetches = [r for r in live.fake.requests if r["method"] == "GET" and r["path"] == real_urls[0].replace(
        live.fake.base_url, "")]
    assert [r["status"] for r in fetches] == [500, 200], "the 500 was retried"


def test_photos_are_grouped_into_mms_of_at_most_ten_and_five_megabytes():
    def doc(n: int, size: int) -> documents.Document:
        return documents.Document(f"ME{n}", n, "image/jpeg", size, "", f"ME{n}.jpg", 0.0)

    megabyte = 1024 * 1024
    assert [len(b) for b in _batches([doc(n, 1000) for n in range(12)])] == [10, 2]
    assert [[d.id for d in b] for b in _batches([doc(1, 3 * megabyte), doc(2, 3 * megabyte), doc(3, megabyte)])] == \
        [["ME1"], ["ME2", "ME3"]]
    assert [len(b) for b in _batches([doc(1, 9 * megabyte), doc(2, 10)])] == [1, 1]


def test_a_forwarded_mms_twilio_could_not_deliver_is_on_the_timeline(live):
    live.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert live.run_jobs(lambda: live.fake.messages_to(LEGAL))
    live.fake.set_delivery(LEGAL, "undelivered", 30007)          # from now on: the carrier filters it
    send_photos(live)
    assert live.run_jobs(lambda: mms_to(live, LEGAL))
    assert live.fake.wait_for(lambda: any(e["kind"] == "documents_failed" for e in
                                          live.services.incidents.timeline("demo", "101")))
    texts = [e["text"] for e in live.services.incidents.timeline("demo", "101")]
    assert "the photos forwarded to Office of Legal Counsel were not delivered (error 30007); they are on the " \
           "dashboard" in texts
