"""The baseline RQ job for benchmarks/escalation.py: one twilio client call, nothing else. It runs
in the hotline's own worker (``python -m hotline worker``), so it pays the same fork, dequeue and
HTTP costs as an escalation job, and none of the hotline's."""

from __future__ import annotations

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client


def send_sms(account_sid: str, auth_token: str, base_url: str, from_: str, to: str, body: str) -> str:
    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=10))
    client.api.base_url = base_url.rstrip("/")
    return client.messages.create(from_=from_, to=to, body=body).sid
