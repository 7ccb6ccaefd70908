"""The fake Twilio's MMS media: inbound media behind basic auth (Twilio's media authentication),
the Media resources through the real twilio client, and outbound MediaUrls fetched as Twilio does."""

from __future__ import annotations

import threading

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from hotline.testing.fake_twilio import FakeTwilio

ACCOUNT = "AC" + "2" * 32
TOKEN = "media-token"
STAFF = "+13035550100"
HOTLINE = "+13035550199"


@pytest.fixture(scope="module")
def server():
    with FakeTwilio(ACCOUNT, TOKEN) as fake:
        yield fake


@pytest.fixture
def fake(server):
    server.reset()
    return server


@pytest.fixture
def client(fake):
    made = Client(ACCOUNT, TOKEN, http_client=TwilioHttpClient(timeout=5))
    made.api.base_url = fake.base_url
    return made


def test_inbound_media_need_the_accounts_credentials(fake):
    message_sid, [first, second] = fake.add_inbound_media([(b"\xff\xd8page1", "image/jpeg"), (b"page2", "image/png")])
    assert first.startswith(f"{fake.base_url}/2010-04-01/Accounts/{ACCOUNT}/Messages/{message_sid}/Media/ME")
    assert requests.get(first, timeout=5).status_code == 401
    assert requests.get(first, auth=(ACCOUNT, "wrong"), timeout=5).status_code == 401
    answer = requests.get(first, auth=(ACCOUNT, TOKEN), timeout=5)
    assert (answer.status_code, answer.content, answer.headers["Content-Type"]) == (200, b"\xff\xd8page1", "image/jpeg")
    assert requests.get(second, auth=(ACCOUNT, TOKEN), timeout=5).headers["Content-Type"] == "image/png"


def test_media_resources_list_fetch_and_delete_through_the_twilio_client(fake, client):
    message_sid, urls = fake.add_inbound_media([(b"one", "image/jpeg"), (b"two", "image/jpeg")])
    listed = client.messages(message_sid).media.list()
    assert sorted(m.sid for m in listed) == sorted(url.rsplit("/", 1)[1] for url in urls)
    first = urls[0].rsplit("/", 1)[1]
    fetched = client.messages(message_sid).media(first).fetch()
    assert (fetched.content_type, fetched.parent_sid) == ("image/jpeg", message_sid)
    assert client.messages(message_sid).media(first).delete() is True
    assert requests.get(urls[0], auth=(ACCOUNT, TOKEN), timeout=5).status_code == 404
    with pytest.raises(TwilioRestException) as caught:
        client.messages(message_sid).media(first).fetch()
    assert caught.value.status == 404
    assert [m["deleted"] for m in fake.media] == [True, False]
    # Another message's SID does not reach this media.
    with pytest.raises(TwilioRestException):
        client.messages("MM" + "0" * 32).media(urls[1].rsplit("/", 1)[1]).delete()


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server


def test_outbound_media_urls_are_fetched_before_sending(fake, client):
    def app(environ, start_response):
        path = Request(environ).path
        answer = Response(b"PDFDATA", mimetype="application/pdf") if path == "/ok" else Response("no", status=403)
        return answer(environ, start_response)

    server = serve(app)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        good = client.messages.create(to=STAFF, from_=HOTLINE, body="docs", media_url=[f"{base}/ok", f"{base}/ok"])
        assert fake.wait_for(lambda: fake.messages[0]["status"] == "delivered")
        fetched = [f for f in fake.media_fetches if f["message_sid"] == good.sid]
        expected = [(200, b"PDFDATA", "application/pdf")] * 2
        assert [(f["status"], f["content"], f["content_type"]) for f in fetched] == expected
        bad = client.messages.create(to=STAFF, from_=HOTLINE, body="docs", media_url=[f"{base}/refused"])
        assert fake.wait_for(lambda: fake.messages[1]["status"] == "failed")
        assert fake.messages[1]["error_code"] == 11200 and fake.messages[1]["sid"] == bad.sid
    finally:
        server.shutdown()
        server.server_close()
