"""The legal office's dashboard (see views.py)."""

from __future__ import annotations


def register(app) -> None:
    from .views import bp, csrf

    csrf.init_app(app)
    # Twilio's webhooks are signed, not CSRF-tokened: only the dashboard's forms carry tokens.
    for name in ("sms", "voice", "status", "health"):
        csrf.exempt(app.blueprints[name])
    app.register_blueprint(bp)
