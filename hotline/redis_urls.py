"""Redis as districts deploy it: a plain ``redis://`` URL, TLS (``rediss://``, a managed provider's
certificate settings), a password, or Sentinel for a district's own high-availability Redis.

- ``redis://[[user]:password@]host:port/db`` and ``rediss://...``: redis-py reads them itself. For
  TLS the certificate settings come from the environment (settings.py): HOTLINE_REDIS_CA_CERTS (the
  provider's CA bundle; default: the system's), HOTLINE_REDIS_CERTFILE / HOTLINE_REDIS_KEYFILE (a
  client certificate, where the provider asks for one) and HOTLINE_REDIS_VERIFY (``required``, the
  default; ``none`` only for a provider whose certificate cannot be checked, e.g. self-signed
  without a CA to give).
- ``redis+sentinel://[[user]:password@]host1:26379,host2:26379/<service>[/<db>]`` (or
  ``rediss+sentinel://`` for TLS to the sentinels and the master): the sentinels are asked for the
  current master of ``<service>``, and asked again after a failover. The password is the master's;
  ``?sentinel_password=`` gives the sentinels' own when they have one.

``describe`` says which of these a URL is, without its password, for /healthz and the logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import redis
from redis.sentinel import Sentinel

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
VERIFY_MODES = ("required", "optional", "none")


@dataclass(frozen=True)
class RedisTLS:
    """Certificate settings for ``rediss://`` (and ``rediss+sentinel://``)."""

    ca_certs: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    verify: str = "required"

    def options(self) -> dict:
        options: dict = {"ssl_cert_reqs": self.verify}
        if self.ca_certs:
            options["ssl_ca_certs"] = self.ca_certs
        if self.certfile:
            options["ssl_certfile"] = self.certfile
        if self.keyfile:
            options["ssl_keyfile"] = self.keyfile
        return options


@dataclass(frozen=True)
class SentinelURL:
    hosts: tuple[tuple[str, int], ...]
    service: str
    db: int
    username: str | None
    password: str | None
    sentinel_password: str | None
    tls: bool


class BadRedisURL(ValueError):
    pass


def parse_sentinel(url: str) -> SentinelURL:
    parts = urlsplit(url)
    if parts.scheme not in SENTINEL_SCHEMES:
        raise BadRedisURL(f"not a Sentinel URL ({', '.join(SENTINEL_SCHEMES)})")
    netloc = parts.netloc
    username = password = None
    if "@" in netloc:
        credentials, netloc = netloc.rsplit("@", 1)
        username, _, password = credentials.partition(":")
        username, password = unquote(username) or None, unquote(password) or None
    hosts = []
    for item in netloc.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise BadRedisURL(f"{item!r} should be host:port (a sentinel, usually port 26379)")
        hosts.append((host.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise BadRedisURL("names no service: end it with /<master name>, e.g. /mymaster")
    if len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise BadRedisURL("the path should be /<master name> or /<master name>/<db number>")
    query = parse_qs(parts.query)
    return SentinelURL(tuple(hosts), path[0], int(path[1]) if len(path) == 2 else 0, username, password,
                       (query.get("sentinel_password") or [None])[0], parts.scheme == "rediss+sentinel")


def open_redis(url: str, *, decode: bool, tls: RedisTLS | None = None, **options) -> redis.Redis:
    """A client for ``url``: plain, TLS or Sentinel. ``options`` are redis-py connection options
    (timeouts, retry); ``tls`` applies to rediss:// and rediss+sentinel:// only."""
    scheme = urlsplit(url).scheme
    secure = scheme in ("rediss", "rediss+sentinel")
    if secure:
        options.update((tls or RedisTLS()).options())
    if scheme in SENTINEL_SCHEMES:
        found = parse_sentinel(url)
        connection = {k: v for k, v in options.items() if k != "health_check_interval"}
        if secure:
            connection["ssl"] = True
        sentinel_options = {key: value for key, value in connection.items()
                            if key.startswith(("socket_", "ssl"))}
        if found.sentinel_password:
            sentinel_options["password"] = found.sentinel_password
        sentinel = Sentinel(list(found.hosts), sentinel_kwargs=sentinel_options, **connection)
        return sentinel.master_for(found.service, db=found.db, username=found.username, password=found.password,
                                   decode_responses=decode)
    return redis.Redis.from_url(url, decode_responses=decode, **options)


def describe(url: str | None, tls: RedisTLS | None = None) -> dict:
    """What kind of Redis ``url`` is, for /healthz: never its password."""
    if not url:
        return {"mode": "none"}
    parts = urlsplit(url)
    report: dict = {}
    if parts.scheme in SENTINEL_SCHEMES:
        try:
            found = parse_sentinel(url)
        except BadRedisURL:
            return {"mode": "sentinel", "error": "bad URL"}
        report.update(mode="sentinel", service=found.service, sentinels=len(found.hosts),
                      password=bool(found.password))
    else:
        report.update(mode="redis", password=bool(parts.password))
    report["tls"] = parts.scheme in ("rediss", "rediss+sentinel")
    if report["tls"]:
        tls = tls or RedisTLS()
        report["verify"] = tls.verify
        report["ca"] = "given" if tls.ca_certs else "system"
        report["client_certificate"] = bool(tls.certfile)
    return report
