"""Signing in with the district's identity provider: OpenID Connect (Google Workspace, Microsoft
Entra ID) through Authlib's Flask client, which fetches the provider's discovery document and keys,
checks the state, the nonce and the ID token's signature, issuer, audience and expiry.

The provider only says who the person is. The hotline's accounts still decide what they may do:
an identity whose email matches no enabled account gets nothing. Set up in docs/dashboard.md.
"""

from __future__ import annotations

import logging

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import current_app, redirect, render_template, url_for

from . import auth
from .views import _my_districts, _record, _services, bp, landing

log = logging.getLogger(__name__)
CLIENT = "district"


def init_sso(app) -> None:
    settings = app.config["HOTLINE_SETTINGS"]
    if not settings.oidc_issuer:
        return
    oauth = OAuth(app)
    oauth.register(CLIENT, client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
                   server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
                   client_kwargs={"scope": "openid email profile", "timeout": 10})
    app.extensions["hotline_sso"] = oauth


def _client():
    oauth = current_app.extensions.get("hotline_sso")
    return getattr(oauth, CLIENT) if oauth else None


def _callback_url() -> str:
    public = current_app.config["HOTLINE_SETTINGS"].public_url
    path = url_for("admin.sso_callback")
    return f"{public}{path}" if public else url_for("admin.sso_callback", _external=True)


def _refused(message: str, status: int = 403):
    return render_template("admin/message.html", title="Single sign-on", message=message, signed_in=False), status


@bp.get("/sso/login")
def sso_login():
    client = _client()
    if client is None:
        return _refused("Single sign-on is not set up on this hotline.", 404)
    return client.authorize_redirect(_callback_url())


@bp.get("/sso/callback")
def sso_callback():
    client = _client()
    if client is None:
        return _refused("Single sign-on is not set up on this hotline.", 404)
    try:
        token = client.authorize_access_token()
    except OAuthError as exc:
        log.warning("SSO sign-in refused by the provider or the checks: %s", exc.error)
        return _refused("The sign-in could not be completed. Go back to the sign-in page and try again.", 400)
    claims = token.get("userinfo") or {}
    email = (claims.get("email") or "").strip().lower()
    # An address the provider says is not verified proves nothing about who this is.
    if not email or claims.get("email_verified") is False:
        return _refused("Your identity provider did not give a verified email address.")
    account = _services().accounts.by_email(email)
    if account is None or account.disabled:
        log.warning("SSO sign-in refused: no enabled account for the identity")
        return _refused("You signed in with your district account, but no dashboard account has your email. "
                        "Ask your district administrator to add you.")
    auth.start_session(account, "sso")
    _record(_my_districts(), "sign_in", method="sso")
    return redirect(landing())
