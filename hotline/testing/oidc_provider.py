"""A local OpenID Connect provider standing in for Google Workspace or Microsoft Entra ID in tests:
discovery, an authorization endpoint that signs in whoever the test says is at the keyboard, a
token endpoint (authorization code, client_secret_basic or _post) and the signing keys. ID tokens
are RS256 JWTs made with joserfc, so the hotline's client (Authlib) checks real signatures, the
issuer, the audience, the nonce and the expiry, exactly as against a real provider.

Not for production: it asks nobody for a password.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

from ..redis_server import free_port


@dataclass
class Person:
    """Who is "signed in" at the provider when the hotline sends someone there."""

    email: str
    name: str = "Test Person"
    email_verified: bool | None = True
    subject: str = field(default_factory=lambda: secrets.token_hex(8))


class OIDCProvider:
    def __init__(self, client_id: str = "hotline-test", client_secret: str = "test-secret"):
        self.client_id = client_id
        self.client_secret = client_secret
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "stand-in-1", "use": "sig", "alg": "RS256"})
        self.person: Person | None = None
        self.codes: dict[str, dict] = {}
        self.token_requests = 0
        self.app = self._make_app()
        self._server = None
        self._thread = None

    # --- the endpoints ------------------------------------------------------------------------
    def _make_app(self) -> Flask:
        app = Flask("oidc-stand-in")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify({
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "email", "profile"],
            })

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [self.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize():
            args = request.args
            if args.get("client_id") != self.client_id or args.get("response_type") != "code":
                return jsonify({"error": "unauthorized_client"}), 400
            if self.person is None:
                return redirect(f"{args['redirect_uri']}?{urlencode({'error': 'access_denied', 'state': args.get('state', '')})}")
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"person": self.person, "nonce": args.get("nonce"), "redirect_uri": args["redirect_uri"]}
            return redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args.get('state', '')})}")

        @app.post("/token")
        def token():
            self.token_requests += 1
            client_id, client_secret = request.form.get("client_id"), request.form.get("client_secret")
            header = request.headers.get("Authorization", "")
            if header.startswith("Basic "):
                client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
            if (client_id, client_secret) != (self.client_id, self.client_secret):
                return jsonify({"error": "invalid_client"}), 401
            grant = self.codes.pop(request.form.get("code", ""), None)
            if grant is None or grant["redirect_uri"] != request.form.get("redirect_uri"):
                return jsonify({"error": "invalid_grant"}), 400
            return jsonify({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                            "id_token": self.id_token(grant["person"], grant["nonce"])})

        return app

    def id_token(self, person: Person, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": person.subject, "aud": self.client_id, "iat": now, "exp": now + 300,
                  "email": person.email, "name": person.name}
        if person.email_verified is not None:
            claims["email_verified"] = person.email_verified
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode({"alg": "RS256", "kid": "stand-in-1"}, claims, self.key)

    # --- running --------------------------------------------------------------------------------
    def start(self) -> OIDCProvider:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-stand-in", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
