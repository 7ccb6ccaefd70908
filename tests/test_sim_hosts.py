"""Issue 13: the web simulator (a development route that signs with the real token) answers only
loopback Host headers, and only without a live Twilio account unless `hotline serve --sim-live`."""

from __future__ import annotations

import pytest

from hotline.devserver import prepare
from hotline.settings import Settings


@pytest.mark.parametrize("host", ["127.0.0.1:5000", "localhost:5000", "[::1]:5000", "localhost", "127.0.0.1"])
def test_loopback_hosts_reach_the_simulator(make_hotline, host):
    hotline = make_hotline(environment="development", dry_run=True)
    response = hotline.app.test_client().get("/sim/", headers={"Host": host})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example:5000", "attacker.test", "127.0.0.1.nip.io:5000", "0.0.0.0:5000",
                                  "192.168.1.20:5000", "localhost.evil.example"])
@pytest.mark.parametrize("path, method", [("/sim/", "get"), ("/sim/api/outbox", "get"), ("/sim/api/text", "post")])
def test_other_hosts_get_404_on_every_dev_route(make_hotline, host, path, method):
    hotline = make_hotline(environment="development", dry_run=True)
    client = hotline.app.test_client()
    response = getattr(client, method)(path, headers={"Host": host}, json={"from": "+13035550120", "body": "ACK"})
    assert response.status_code == 404
    assert "csrf" not in response.get_data(as_text=True).lower()


@pytest.mark.parametrize("path, method", [("/sim/", "get"), ("/sim/api/text", "post")])
def test_a_loopback_host_header_from_another_machine_gets_404(make_hotline, path, method):
    """The Host header is the client's to write: `hotline serve --host 0.0.0.0` must not hand the
    simulator to a machine on the network that sends "Host: localhost"."""
    hotline = make_hotline(environment="development", dry_run=True)
    client = hotline.app.test_client()
    response = getattr(client, method)(path, headers={"Host": "localhost:5000"},
                                       environ_base={"REMOTE_ADDR": "192.168.1.20"},
                                       json={"from": "+13035550120", "body": "ACK"})
    assert response.status_code == 404


def test_no_simulator_with_a_live_account_unless_asked(make_hotline):
    live = make_hotline(environment="development")                      # an account SID: live
    assert live.app.test_client().get("/sim/", headers={"Host": "127.0.0.1:5000"}).status_code == 404
    asked = make_hotline(environment="development", sim_live=True)
    assert asked.app.test_client().get("/sim/", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    assert asked.app.test_client().get("/sim/", headers={"Host": "evil.example"}).status_code == 404


def test_hotline_serve_turns_it_on_only_with_the_flag(tmp_path, monkeypatch):
    monkeypatch.delenv("HOTLINE_ENV", raising=False)
    base = Settings(var_dir=tmp_path, twilio_account_sid="AC" + "1" * 32, twilio_auth_token="t" * 32)
    assert prepare(base, "127.0.0.1", 5000)[0].sim_live is False
    assert prepare(base, "127.0.0.1", 5000, sim_live=True)[0].sim_live is True
