"""The dashboard: views.py (incidents, requests, languages, health), people.py (audit log,
accounts, one's sessions), sso.py (OpenID Connect sign-in), auth.py (sessions, roles, throttle)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def register(app) -> None:
    from . import documents
    from . import people, sso  # noqa: F401 — their routes join the blueprint
    from .views import bp, csrf

    # CSRF protection for the whole app: the dashboard's forms and the development phone
    # simulator's JSON calls (which send the page's token as X-CSRFToken) carry tokens.
    csrf.init_app(app)
    # Twilio's webhooks are signed, not CSRF-tokened: only the dashboard's forms carry tokens.
    for name in ("sms", "voice", "status", "health", "recording_line"):
        csrf.exempt(app.blueprints[name])
    app.register_blueprint(bp)
    app.register_blueprint(documents.bp)
    sso.init_sso(app)
    if app.config["HOTLINE_SETTINGS"].admin_password_hash:
        log.warning("HOTLINE_ADMIN_PASSWORD(_HASH) is deprecated: it is one shared account that names nobody. "
                    "Create one account per person with `hotline users add` (docs/dashboard.md), then remove it.")
