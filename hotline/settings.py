"""The environment, read in one place, into one frozen Settings object.

Nothing else in the hotline reads ``os.environ``. Every variable is documented in the README's
"Configuration" section; a bad value raises ConfigError naming the variable and the fix.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from collections.abc import Mapping

from .content import demo_district
from .problems import ConfigError, Problem
from .redis_urls import SENTINEL_SCHEMES, VERIFY_MODES, BadRedisURL, RedisTLS, parse_sentinel

ENVIRONMENTS = ("production", "development", "test")
MIN_ADMIN_PASSWORD = 12   # characters; the dashboard shows every incident and family request


@dataclass(frozen=True)
class Settings:
    environment: str = "production"
    redis_url: str | None = None
    district_path: Path = field(default_factory=demo_district)
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_api_base_url: str | None = None
    public_url: str | None = None
    # How many proxies in front of the app may set X-Forwarded-* (0: none are trusted).
    trusted_proxies: int = 0
    admin_password_hash: str | None = None
    secret_key: str | None = None
    var_dir: Path = field(default_factory=lambda: Path("var"))
    # Seconds before a Twilio REST call is abandoned (the twilio client has no timeout of its own).
    rest_timeout: float = 10.0
    log_level: str = "INFO"
    # Seconds between RQ's retries of a notification that hit a 429, a 5xx or a timeout.
    retry_intervals: tuple[int, ...] = (2, 5, 15, 30)
    # The reconciler runs this often (seconds) and acts on a tier timer this late (seconds).
    reconcile_interval: int = 15
    timer_grace: int = 20
    # Where copies of the documents staff photograph are kept (unset: var/documents), one folder
    # per district and incident (documents.py).
    documents_dir: Path | None = None
    # OpenID Connect sign-in to the dashboard (issue 14): the provider's issuer URL (its discovery
    # document is <issuer>/.well-known/openid-configuration), this app's client id and secret, and
    # the button's label ("Google", "Microsoft"). Accounts still decide who gets in.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_label: str = "single sign-on"
    # issue 13: the web phone simulator with a live Twilio account (only `hotline serve --sim-live`).
    sim_live: bool = False
    # Certificate settings for a rediss:// REDIS_URL (redis_urls.py).
    redis_tls: RedisTLS = field(default_factory=RedisTLS)

    @property
    def dry_run(self) -> bool:
        """Without an account SID, outbound messages and calls go to the dry-run outbox."""
        return not self.twilio_account_sid

    @property
    def development(self) -> bool:
        return self.environment == "development"

    def replace(self, **changes) -> Settings:
        return replace(self, **changes)


def _hash_password(plain: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(plain)


def settings_from_env(environ: Mapping[str, str] | None = None, **overrides) -> Settings:
    env = os.environ if environ is None else environ
    problems: list[Problem] = []

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    environment = (get("HOTLINE_ENV") or "production").lower()
    if environment not in ENVIRONMENTS:
        problems.append(Problem("environment", "HOTLINE_ENV", f"{environment!r} is not known",
                                f"use one of {', '.join(ENVIRONMENTS)}"))

    def number(name: str, default: float, convert=float, minimum: float = 0, fix: str = "give seconds, e.g. 10"):
        text = get(name)
        if text is None:
            return default
        try:
            value = convert(text)
            if value < minimum:
                raise ValueError
            return value
        except ValueError:
            problems.append(Problem("environment", name, f"{text!r} is not a number of at least {minimum}", fix))
            return default

    trusted_proxies = number("HOTLINE_TRUSTED_PROXIES", 0, int, 0,
                             "set it to the number of proxies in front of the hotline, e.g. 1")
    rest_timeout = number("HOTLINE_REST_TIMEOUT", 10.0, float, 0.1)
    reconcile_interval = number("HOTLINE_RECONCILE_INTERVAL", 15, int, 1)
    timer_grace = number("HOTLINE_TIMER_GRACE", 20, int, 1)

    intervals_text = get("HOTLINE_RETRY_INTERVALS") or "2,5,15,30"
    try:
        retry_intervals = tuple(int(part) for part in intervals_text.split(","))
        if not retry_intervals or any(i < 0 for i in retry_intervals):
            raise ValueError
    except ValueError:
        problems.append(Problem("environment", "HOTLINE_RETRY_INTERVALS", f"{intervals_text!r} is not a list of "
                                "seconds", "write e.g. 2,5,15,30"))
        retry_intervals = (2, 5, 15, 30)

    public_url = get("HOTLINE_PUBLIC_URL")
    if public_url and not public_url.startswith(("http://", "https://")):
        problems.append(Problem("environment", "HOTLINE_PUBLIC_URL", f"{public_url!r} is not a URL",
                                "give the URL Twilio calls, e.g. https://hotline.example.org"))

    redis_url = get("REDIS_URL")
    scheme = redis_url.split("://", 1)[0].lower() if redis_url and "://" in redis_url else ""
    if redis_url and scheme not in ("redis", "rediss", "unix", *SENTINEL_SCHEMES):
        problems.append(Problem("environment", "REDIS_URL", f"{scheme or redis_url!r} is not a Redis URL scheme",
                                "write redis://host:6379/0, rediss://... (TLS) or "
                                "redis+sentinel://host1:26379,host2:26379/mymaster (docs/operations.md)"))
    elif scheme in SENTINEL_SCHEMES:
        try:
            parse_sentinel(redis_url)
        except BadRedisURL as exc:
            problems.append(Problem("environment", "REDIS_URL", f"the Sentinel URL {exc}",
                                    "write redis+sentinel://[:password@]host1:26379,host2:26379/<master name>[/db]"))
    verify = (get("HOTLINE_REDIS_VERIFY") or "required").lower()
    if verify not in VERIFY_MODES:
        problems.append(Problem("environment", "HOTLINE_REDIS_VERIFY", f"{verify!r} is not known",
                                f"use one of {', '.join(VERIFY_MODES)}"))
        verify = "required"
    tls_files = {}
    for name in ("HOTLINE_REDIS_CA_CERTS", "HOTLINE_REDIS_CERTFILE", "HOTLINE_REDIS_KEYFILE"):
        value = get(name)
        if value and not Path(value).is_file():
            problems.append(Problem("environment", name, f"{value} is not a file",
                                    "give the path of the PEM file your Redis provider gave you"))
        tls_files[name] = value
    redis_tls = RedisTLS(tls_files["HOTLINE_REDIS_CA_CERTS"], tls_files["HOTLINE_REDIS_CERTFILE"],
                         tls_files["HOTLINE_REDIS_KEYFILE"], verify)

    password_hash = get("HOTLINE_ADMIN_PASSWORD_HASH")
    plain_password = get("HOTLINE_ADMIN_PASSWORD")
    if not password_hash and plain_password and environment == "production" and \
            len(plain_password) < MIN_ADMIN_PASSWORD:
        problems.append(Problem("environment", "HOTLINE_ADMIN_PASSWORD", f"is {len(plain_password)} characters; "
                                f"the dashboard password must be at least {MIN_ADMIN_PASSWORD}",
                                "choose a passphrase of 12 or more characters, or set HOTLINE_ADMIN_PASSWORD_HASH "
                                "from `hotline admin hash-password`"))
    elif not password_hash and plain_password:
        password_hash = _hash_password(plain_password)

    oidc_issuer = get("HOTLINE_OIDC_ISSUER")
    if oidc_issuer and not oidc_issuer.startswith(("https://", "http://")):
        problems.append(Problem("environment", "HOTLINE_OIDC_ISSUER", f"{oidc_issuer!r} is not a URL",
                                "give the provider's issuer, e.g. https://accounts.google.com"))
    if oidc_issuer and not (get("HOTLINE_OIDC_CLIENT_ID") and get("HOTLINE_OIDC_CLIENT_SECRET")):
        problems.append(Problem("environment", "HOTLINE_OIDC_CLIENT_ID", "and HOTLINE_OIDC_CLIENT_SECRET are needed "
                                "with HOTLINE_OIDC_ISSUER", "copy both from the provider's app registration "
                                "(docs/dashboard.md)"))

    sid = get("TWILIO_ACCOUNT_SID")
    if sid and not (sid.startswith("AC") and len(sid) == 34):
        problems.append(Problem("environment", "TWILIO_ACCOUNT_SID", "is not an account SID",
                                "copy it from the Twilio console: AC followed by 32 characters"))

    settings = Settings(
        environment=environment if environment in ENVIRONMENTS else "production",
        redis_url=redis_url,
        district_path=Path(get("HOTLINE_DISTRICT")) if get("HOTLINE_DISTRICT") else demo_district(),
        twilio_account_sid=sid,
        twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
        twilio_api_base_url=get("TWILIO_API_BASE_URL"),
        public_url=public_url.rstrip("/") if public_url else None,
        trusted_proxies=trusted_proxies,
        admin_password_hash=password_hash,
        secret_key=get("HOTLINE_SECRET_KEY"),
        var_dir=Path(get("HOTLINE_VAR_DIR") or "var"),
        rest_timeout=rest_timeout,
        log_level=(get("HOTLINE_LOG_LEVEL") or "INFO").upper(),
        retry_intervals=retry_intervals,
        reconcile_interval=reconcile_interval,
        timer_grace=timer_grace,
        documents_dir=Path(get("HOTLINE_DOCUMENTS_DIR")) if get("HOTLINE_DOCUMENTS_DIR") else None,
        oidc_issuer=oidc_issuer.rstrip("/") if oidc_issuer else None,
        oidc_client_id=get("HOTLINE_OIDC_CLIENT_ID"),
        oidc_client_secret=get("HOTLINE_OIDC_CLIENT_SECRET"),
        oidc_label=get("HOTLINE_OIDC_LABEL") or "single sign-on",
        redis_tls=redis_tls,
    )
    if problems:
        raise ConfigError(problems)
    return replace(settings, **overrides) if overrides else settings


def local_secret(var_dir: Path, name: str) -> tuple[str, Path]:
    """A secret kept in ``var/<name>`` for local development, created on first use."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip(), path
    var_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(16)
    # Created readable by its owner only: it signs webhooks or opens the dashboard.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value, path


SERVE_REDIS_FILE = "serve-redis-url"


def write_serve_redis_url(var_dir: Path, url: str) -> Path:
    """``hotline serve`` leaves its Redis URL here so that `hotline outbox` and the other commands run
    in a second terminal find it without REDIS_URL (the embedded Redis's port changes every run)."""
    path = var_dir / SERVE_REDIS_FILE
    var_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(url + "\n")
    return path


def serve_redis_url(var_dir: Path) -> str | None:
    """The Redis URL of the `hotline serve` running in this folder, if one left it."""
    path = var_dir / SERVE_REDIS_FILE
    return (path.read_text().strip() or None) if path.exists() else None
