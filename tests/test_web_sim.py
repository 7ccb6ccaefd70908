"""The web phone simulator at /sim: development only; its JSON API signs and forwards texts and
calls to the hotline itself and shows the dry-run outbox."""

from __future__ import annotations

import re

import pytest

from conftest import FAMILY_LINE, FRONT_DESK, LEGAL, PARENT, STAFF_LINE


def csrf_token(client) -> str:
    page = client.get("/sim/")
    assert page.status_code == 200
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)


class Sim:
    def __init__(self, hotline):
        self.hotline = hotline
        self.client = hotline.app.test_client()
        self.token = csrf_token(self.client)

    def post(self, path: str, payload: dict, expect: int = 200) -> dict:
        response = self.client.post(f"/sim/api/{path}", json=payload, headers={"X-CSRFToken": self.token})
        assert response.status_code == expect, response.get_data(as_text=True)
        return response.get_json()

    def outbox(self, since: int = 0) -> dict:
        return self.client.get(f"/sim/api/outbox?since={since}").get_json()


@pytest.fixture
def sim(make_hotline):
    return Sim(make_hotline(environment="development", dry_run=True))


@pytest.mark.parametrize("environment", ["production", "test"])
def test_the_simulator_does_not_exist_outside_development(make_hotline, environment):
    hotline = make_hotline(environment=environment, dry_run=True)
    client = hotline.app.test_client()
    for path in ("/sim/", "/sim/api/outbox"):
        assert client.get(path).status_code == 404
    assert client.post("/sim/api/text", json={"from": FRONT_DESK, "line": STAFF_LINE, "body": "ICE"}).status_code == 404
    assert not [rule for rule in hotline.app.url_map.iter_rules() if rule.rule.startswith("/sim")]


def test_the_page_shows_the_phones_and_lines_and_no_auth_token(sim):
    page = sim.client.get("/sim/").get_data(as_text=True)
    for number in (FRONT_DESK, LEGAL, PARENT, STAFF_LINE, FAMILY_LINE):
        assert number in page
    assert sim.hotline.settings.twilio_auth_token not in page


def test_ice_from_the_front_desk_through_the_sim_reaches_the_legal_office_outbox(sim):
    replies = sim.post("text", {"from": FRONT_DESK, "line": STAFF_LINE, "body": "ICE"})["replies"]
    assert any("Incident 101" in reply for reply in replies)
    sim.hotline.run_jobs()
    outbox = sim.outbox()
    assert outbox["dry_run"] is True
    to_legal = [item for item in outbox["items"] if item["to"] == LEGAL and item["kind"] == "sms"]
    assert to_legal and "incident 101" in to_legal[0]["body"] and "Reply ACK 101" in to_legal[0]["body"]
    assert sim.outbox(outbox["next"])["items"] == [], "since= returns only what is new"

    # The legal office phone replies ACK 101 on the line that wrote to it; the reporter hears of it.
    ack = sim.post("text", {"from": LEGAL, "line": to_legal[0]["from"], "body": "ACK 101"})["replies"]
    assert any("You have incident 101" in reply for reply in ack)
    sim.hotline.run_jobs()
    told = [item for item in sim.outbox(outbox["next"])["items"] if item["to"] == FRONT_DESK]
    assert any("has incident 101" in item["body"] for item in told)


def test_a_call_walks_the_menu_with_digits_and_the_legal_office_answers_its_alert_call(make_hotline):
    fast = {"escalation": {"tiers": [{"notify": ["legal_office voice"], "wait": "1m"}], "rounds": 1}}
    sim = Sim(make_hotline(fast, environment="development", dry_run=True))
    answer = sim.post("call", {"from": PARENT, "line": FAMILY_LINE})
    assert not answer["ended"] and answer["call"].startswith("CA")
    first = answer["turns"][-1]
    assert first["spoken"] and first["gather"], "the family line greets and listens"
    assert all(s["language"] for s in first["spoken"] if s["kind"] == "say"), "each Say has its language"
    pressed = sim.post("press", {"call": answer["call"], "digits": "1"})
    assert pressed["turns"], "pressing a key gets the next step"
    sim.post("hangup", {"call": answer["call"]})
    assert sim.post("press", {"call": answer["call"], "digits": "1"}, expect=404)["error"]

    # An escalation call from the outbox: answering it and pressing 1 acknowledges.
    sim.post("text", {"from": FRONT_DESK, "line": STAFF_LINE, "body": "ICE"})
    sim.hotline.run_jobs()
    [alert] = [item for item in sim.outbox()["items"] if item["kind"] == "call" and item["to"] == LEGAL]
    ringing = sim.post("answer", {"sid": alert["sid"]})
    assert "incident" in " ".join(s["text"] for s in ringing["turns"][0]["spoken"]).lower()
    taken = sim.post("press", {"call": ringing["call"], "digits": "1"})
    assert taken["ended"]
    assert sim.hotline.services.incidents.get("demo", "101").status == "taken"


def test_the_api_needs_the_pages_csrf_token(sim):
    refused = sim.client.post("/sim/api/text", json={"from": FRONT_DESK, "line": STAFF_LINE, "body": "ICE"})
    assert refused.status_code == 400 and "error" in refused.get_json()
    assert sim.hotline.services.incidents.get("demo", "101") is None


def test_bad_input_is_refused_plainly(sim):
    assert "from" in sim.post("text", {"from": "nope", "line": STAFF_LINE, "body": "hi"}, expect=400)["error"]
    assert sim.post("press", {"call": "CAnothing", "digits": "1"}, expect=404)["error"]


def test_a_staff_call_is_connected_and_the_dial_outcome_can_be_chosen(sim):
    answer = sim.post("call", {"from": FRONT_DESK, "line": STAFF_LINE})
    answer = sim.post("press", {"call": answer["call"], "digits": "1"})       # officers at the school
    answer = sim.post("press", {"call": answer["call"], "digits": "1"})       # put me through now
    dialing = answer["turns"][-1]["dial"]
    assert dialing and dialing["numbers"], "the staff line's call connects to the legal office"
    after = sim.post("dial", {"call": answer["call"], "status": "voicemail"})
    assert after["turns"][-1]["dial"]["numbers"] == ["+13035550111"], "a voicemail box is no answer: safety next"
    after = sim.post("dial", {"call": answer["call"], "status": "completed"})
    assert after["ended"] and sim.hotline.services.incidents.get("demo", "101").status == "responding"
    assert sim.post("dial", {"call": answer["call"], "status": "exploded"}, expect=400)["error"]
