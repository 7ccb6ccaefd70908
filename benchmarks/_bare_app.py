"""The baseline web app: a bare Flask endpoint that answers POST /sms with a fixed TwiML, served by
the same web server (benchmarks/_serve.py) and hit by the same client as the hotline (benchmarks/inbound_sms.py).
It reads nothing (no form parsing, no signature check, no Redis): it is the floor of the stack."""

from __future__ import annotations

from flask import Flask, Response

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/sms")
    def sms() -> Response:
        return Response(TWIML, mimetype="application/xml")

    return app
