"""The legal office's dashboard (views.py: pages; auth.py: sign-in, sessions, rate limit)."""

from __future__ import annotations


def register(app) -> None:
    from .views import bp, csrf

    # CSRF protection for the whole app: the dashboard's forms and the development phone
    # simulator's JSON calls (which send the page's token as X-CSRFToken) carry tokens.
    csrf.init_app(app)
    # Twilio's webhooks are signed, not CSRF-tokened: only the dashboard's forms carry tokens.
    for name in ("sms", "voice", "status", "health", "recording_line"):
        csrf.exempt(app.blueprints[name])
    app.register_blueprint(bp)
