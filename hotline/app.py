"""create_app(): the Flask factory. Registers the Twilio webhooks, health checks, the dashboard and,
in development only, the web phone simulator."""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from .logs import configure_logging
from .problems import ConfigError, Problem
from .services import Services, install, settle_heap
from .settings import Settings, settings_from_env

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024   # Twilio's largest webhooks are a few KB
HSTS_SECONDS = 365 * 86400
MIN_SECRET_KEY_BYTES = 32       # a shorter session key can be guessed offline from one cookie
VOICE_PATHS = ("/voice", "/recording-line")
TWILIO_PATHS = ("/sms", "/status", *VOICE_PATHS)


def _require(settings: Settings) -> None:
    problems = []
    if not settings.twilio_auth_token:
        problems.append(Problem("environment", "TWILIO_AUTH_TOKEN", "is not set, so Twilio's signatures cannot be "
                                "checked", "set it to the account's auth token (hotline serve makes a local one)"))
    if not settings.secret_key and settings.environment == "production":
        problems.append(Problem("environment", "HOTLINE_SECRET_KEY", "is not set (it signs dashboard sessions)",
                                "set it to a long random string, e.g. python -c 'import secrets; "
                                "print(secrets.token_hex(32))'"))
    if settings.secret_key and settings.environment == "production" and \
            len(settings.secret_key.encode()) < MIN_SECRET_KEY_BYTES:
        problems.append(Problem("environment", "HOTLINE_SECRET_KEY", f"is {len(settings.secret_key.encode())} "
                                f"bytes; it signs dashboard sessions and must be at least {MIN_SECRET_KEY_BYTES}",
                                "set it to a long random string, e.g. python -c 'import secrets; "
                                "print(secrets.token_hex(32))'"))
    if settings.twilio_account_sid and not settings.public_url and settings.environment == "production":
        problems.append(Problem("environment", "HOTLINE_PUBLIC_URL", "is not set, so Twilio could not fetch the "
                                "escalation calls' scripts nor report deliveries",
                                "set it to the URL Twilio calls, e.g. https://hotline.example.org"))
    if problems:
        raise ConfigError(problems)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions (the dashboard's), but a request without the cookie (every
    Twilio webhook) gets an empty session without building a signer first."""

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or settings_from_env()
    configure_logging(settings.log_level)
    _require(settings)
    services = services or Services(settings)
    install(services)

    app = Flask(__name__)
    app.session_interface = CookieSessions()
    app.config.update(
        HOTLINE_SETTINGS=settings,
        SECRET_KEY=settings.secret_key or "development-only-" + (settings.twilio_auth_token or ""),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.public_url and settings.public_url.startswith("https://")),
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
    )
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)
    app.extensions["hotline"] = services

    if settings.redis_url:
        services.reloader.start()

    @app.before_request
    def pick_up_reloads() -> None:
        # `hotline reload` (reload.py): at most one Redis GET every 2 s; never fails a request.
        services.reloader.maybe_reload()

    from .admin import register as register_admin
    from .channels import recording_line, sms, status, voice
    from .document_links import bp as document_links_bp
    from .health import bp as health_bp

    app.register_blueprint(sms.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(recording_line.bp)   # issue 12: record prompts by phone
    app.register_blueprint(status.bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(document_links_bp)
    register_admin(app)
    if settings.development and (settings.dry_run or settings.sim_live):
        # The simulator signs what it sends with the real token: with a live account only when
        # asked for (hotline serve --sim-live), and only for loopback Host headers (sim/web.py).
        from .sim.web import bp as sim_bp

        app.register_blueprint(sim_bp)

    if settings.public_url and settings.public_url.startswith("https://"):
        @app.after_request
        def strict_transport(response: Response) -> Response:
            # Served over https (HOTLINE_PUBLIC_URL): browsers must never fall back to plain http,
            # where a dashboard session cookie or a form could be read or changed on the way.
            response.headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
            return response

    @app.errorhandler(Exception)
    def answer_twilio_anyway(error):
        """Twilio-facing paths answer with TwiML whatever went wrong; others with a plain page."""
        if isinstance(error, HTTPException):
            if error.code and error.code < 500:
                return error
        else:
            log.exception("unhandled error on %s", request.path)
        if request.path.startswith(VOICE_PATHS):
            response = VoiceResponse()
            response.say("Sorry, something went wrong. Please call your school.")
            response.hangup()
            return Response(str(response), mimetype="application/xml")
        if request.path.startswith(TWILIO_PATHS):
            response = MessagingResponse()
            response.message("Sorry, something went wrong. Please call your school.")
            return Response(str(response), mimetype="application/xml")
        return Response("Internal error. It has been logged.\n", status=500, mimetype="text/plain")

    settle_heap(settings)
    return app
